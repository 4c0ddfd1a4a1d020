// Bundles every scenarios/*.ts into build/k6/<name>.js for k6, and every examples/*.ts (scenarios
// written only against the public entry lib/k6/index.ts) into build/k6/examples/<name>.js.
// k6 runs ES modules in its own JS runtime (no Node APIs), so each scenario is bundled with its
// lib/ imports and npm dependencies into one file; k6's own modules stay external.
import { build, type BuildOptions } from 'esbuild';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMain } from '../lib/node/is-main.ts';

const SCENARIO_DIR = 'scenarios';
export const OUT_DIR = join('build', 'k6');
export const EXAMPLE_DIR = 'examples';

/** The one esbuild configuration for k6 scripts. */
const k6BuildOptions: BuildOptions = {
  bundle: true,
  format: 'esm', // k6 loads ES modules
  platform: 'neutral', // neither Node nor the browser: no built-in shims
  target: 'es2022',
  external: ['k6', 'k6/*'], // provided by the k6 binary at run time
  sourcemap: 'inline', // k6 maps stack traces back to the .ts lines
  // The mappings are all k6 needs for that (checked: the same t.ts:4:8 with or without the sources);
  // the sources themselves would double every bundle, and a k6-operator archive must fit a ConfigMap.
  sourcesContent: false,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

/** Bundles the given entry points (default: every scenario) and returns the output paths. */
export async function bundleScenarios(entries = listScenarios(), outdir = OUT_DIR): Promise<string[]> {
  await build({ ...k6BuildOptions, entryPoints: entries, outdir });
  return entries.map((e) => join(outdir, basename(e).replace(/\.ts$/, '.js')));
}

export function listScenarios(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(dir, f));
}

if (isMain(import.meta.url)) {
  const started = performance.now();
  const outputs = await bundleScenarios();
  const examples = await bundleScenarios(listScenarios(EXAMPLE_DIR), join(OUT_DIR, EXAMPLE_DIR));
  console.log(`build: ${outputs.length} scenario(s) -> ${OUT_DIR}/, ${examples.length} example(s) -> ${join(OUT_DIR, EXAMPLE_DIR)}/ in ${Math.round(performance.now() - started)} ms`);
}
