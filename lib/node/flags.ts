// Command-line flags of a knob registry, read with Node's util.parseArgs: `--port 8001` or
// `--port=8001`, one string per knob that declares a flag. Unknown flags are an error naming the
// known ones, in the ConfigError form every runtime uses.
import { parseArgs } from 'node:util';
import { ConfigError } from '../env.ts';
import { RETIRED_KNOBS, retiredMessage, retiredTo, type Registry } from '../knobs.ts';

/** The flag a variable would have (`BATCH_MAX_SIZE` -> `batch-max-size`), as every server flag is named. */
const flagOf = (env: string) => env.toLowerCase().replace(/_/g, '-');

export function parseFlags(registry: Registry, argv: readonly string[]): Record<string, string> {
  const flags = Object.values(registry).flatMap((k) => (k.flag === undefined ? [] : [k.flag]));
  // A retired name's flag (--batch-max-size) is refused with its new name, like the variable.
  const flagged = new Set(Object.values(registry).flatMap((k) => (k.flag === undefined ? [] : [k.env])));
  for (const old of Object.keys(RETIRED_KNOBS)) {
    if (!flagged.has(retiredTo(old))) continue;
    const flag = `--${flagOf(old)}`;
    if (argv.some((a) => a === flag || a.startsWith(`${flag}=`))) throw new ConfigError(retiredMessage(old, true));
  }
  const options = Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Record<string, string>;
  } catch (e) {
    // parseArgs says what was wrong (unknown option, missing value, positional) in its own words.
    const first = (e as Error).message.split('\n')[0]!.replace(/\. This command does not take positional arguments.*$/, '');
    throw new ConfigError(`${first}: known flags are ${flags.map((f) => `--${f}`).join(' ')}`);
  }
}
