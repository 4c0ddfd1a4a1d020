// The one way a command-line entry ends: with the code its main returns, or with one line naming the
// cause. A ConfigError (and the command's own expected errors, e.g. a BenchError) is the user's to fix:
// exit 2, as every target documents for bad config; anything else exits `failureCode` (1).
import { ConfigError } from '../env.ts';
import { EXIT_CONFIG } from '../exit-codes.ts';

type ErrorClass = abstract new (...args: never[]) => Error;

export function runMain(
  name: string,
  main: () => Promise<number | void>,
  opts: { expected?: readonly ErrorClass[]; failureCode?: number } = {},
): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exit(code);
    },
    (err: unknown) => {
      const expected = err instanceof ConfigError || (opts.expected ?? []).some((E) => err instanceof E);
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(expected ? EXIT_CONFIG : (opts.failureCode ?? 1));
    },
  );
}
