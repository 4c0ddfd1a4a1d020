// The layer guard's checker: reads every import of every .ts file and names each one that crosses a
// layer the wrong way. Layers, bottom to top:
//   lib/          pure TypeScript shared by both runtimes: no Node, no k6, no packages, nothing above it
//   lib/k6/, scenarios/, examples/, tools/harness/k6/   k6 side: k6 and k6/* modules, lib/ and lib/k6/ only
//   lib/node/     Node-only shared parts (server and tools): lib/ and Node, nothing above it
//   server/       never tools/, never the k6 side
//   tools/        server/ only through server/index.ts; accuracy < bench < report (no cycle back)
// test/ may import anything.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

export interface SourceFile {
  /** Repository-relative, '/'-separated. */
  file: string;
  source: string;
}

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

type Zone = 'lib' | 'k6' | 'lib-node' | 'server' | 'tools' | 'test' | 'other';

export function zoneOf(file: string): Zone {
  if (file.startsWith('lib/k6/') || file.startsWith('scenarios/') || file.startsWith('examples/') || file.startsWith('tools/harness/k6/')) return 'k6';
  if (file.startsWith('lib/node/')) return 'lib-node';
  if (file.startsWith('lib/')) return 'lib';
  if (file.startsWith('server/')) return 'server';
  if (file.startsWith('tools/')) return 'tools';
  if (file.startsWith('test/')) return 'test';
  return 'other';
}

/** Module specifiers of every static import/export-from and dynamic import('literal'). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

/** tools/ sub-folders that may not import the ones named (the orchestration order). */
const TOOLS_ORDER: Record<string, string[]> = {
  accuracy: ['bench', 'report'],
  models: ['bench', 'report', 'accuracy'],
  data: ['bench', 'report', 'accuracy'],
  bench: ['report'],
};

function check(file: string, spec: string): string | undefined {
  const zone = zoneOf(file);
  if (zone === 'test' || zone === 'other') return undefined;
  const isRelative = spec.startsWith('.');
  if (!isRelative) {
    const builtin = spec.startsWith('node:');
    const k6 = spec === 'k6' || spec.startsWith('k6/');
    if (zone === 'k6') return k6 ? undefined : 'k6-side code imports only k6 modules and lib/';
    if (k6) return 'only k6-side code (lib/k6, scenarios, examples, tools/harness/k6) imports k6 modules';
    if (zone === 'lib') return builtin ? 'lib/ is pure TypeScript: Node modules belong in lib/node/' : 'lib/ is pure TypeScript: no packages';
    return undefined;
  }
  const target = posix.normalize(posix.join(posix.dirname(file), spec));
  const to = zoneOf(target);
  switch (zone) {
    case 'k6':
      return to === 'lib' || to === 'k6' ? undefined : `k6-side code imports ${to} code`;
    case 'lib':
      return to === 'lib' ? undefined : `lib/ imports ${to} code`;
    case 'lib-node':
      return to === 'lib' || to === 'lib-node' ? undefined : `lib/node/ imports ${to} code`;
    case 'server':
      return to === 'tools' || to === 'k6' || to === 'test' ? `server/ imports ${to} code` : undefined;
    case 'tools': {
      if (to === 'server' && target !== 'server/index.ts') return 'tools/ imports server/ only through server/index.ts';
      if (to === 'k6' || to === 'test') return `tools/ imports ${to} code`;
      if (to === 'tools') {
        const from = file.split('/')[1]!;
        const into = target.split('/')[1]!;
        if (TOOLS_ORDER[from]?.includes(into)) return `tools/${from} may not import tools/${into} (order: models, data < accuracy < bench < report)`;
      }
      return undefined;
    }
  }
  return undefined;
}

export function checkLayers(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const { file, source } of files) {
    for (const specifier of importsOf(source)) {
      const rule = check(file, specifier);
      if (rule) out.push({ file, specifier, rule });
    }
  }
  return out;
}

/** Every .ts file under the given top-level folders of `root`. */
export function readTree(root: string, folders: readonly string[]): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push({ file: relative(root, p).split('\\').join('/'), source: readFileSync(p, 'utf8') });
    }
  };
  for (const f of folders) walk(join(root, f));
  return out;
}
