// The layer guard's checker: reads every import of every .ts file and names each one that crosses a
// layer the wrong way. Layers, bottom to top:
//   lib/          pure TypeScript shared by both runtimes: no Node, no k6, no packages, nothing above it
//   lib/k6/, scenarios/, examples/, tools/harness/k6/   k6 side: k6 and k6/* modules, lib/ and lib/k6/ only
//   lib/node/     Node-only shared parts (server and tools): lib/ and Node, nothing above it
//   server/       never tools/, never the k6 side
//   tools/        server/ only through server/index.ts; accuracy < bench < report (no cycle back);
//                 peers/**/*.ts (the peers' drivers) count as tools
// test/ may import anything.
// And no import cycle anywhere (findCycles): type-only imports count, since a cycle of types is a
// shared type living one layer too high.
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
  if (file.startsWith('tools/') || (file.startsWith('peers/') && file.endsWith('.ts'))) return 'tools';
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
const COMMANDS = ['bench', 'report', 'harness', 'scale-out', 'model-bench', 'region'];
const TOOLS_ORDER: Record<string, string[]> = {
  common: ['models', 'data', 'accuracy', ...COMMANDS],
  models: ['data', 'accuracy', 'common', ...COMMANDS],
  data: ['accuracy', ...COMMANDS],
  accuracy: COMMANDS,
  'model-bench': ['bench', 'report', 'harness', 'scale-out', 'region'],
  bench: ['report', 'harness', 'region'],
  'scale-out': ['report', 'harness', 'region'],
  harness: ['report', 'region'],
  report: ['region'],
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
        if (TOOLS_ORDER[from]?.includes(into)) return `tools/${from} may not import tools/${into} (order: models < data < accuracy < bench, scale-out < harness, report < region; common below them all)`;
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

/** Where a relative specifier of `file` points, as a repository-relative path ('../a/b.ts' from 'x/y/c.ts' -> 'x/a/b.ts'). */
function resolve(file: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(file), spec));
}

/** The import graph of the tree: each file -> the files of `files` it imports (relative imports, type-only ones too). */
export function importGraph(files: readonly SourceFile[]): Map<string, string[]> {
  const known = new Set(files.map((f) => f.file));
  const graph = new Map<string, string[]>();
  for (const { file, source } of files) {
    const targets = importsOf(source)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(file, spec))
      .map((t) => (known.has(t) ? t : [`${t}.ts`, `${t}/index.ts`].find((c) => known.has(c))))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * Every import cycle: one per group of files that reach each other (a strongly connected component,
 * Tarjan), given as one closed path through it that starts at its first file by name, e.g.
 * ['lib/a.ts', 'lib/b.ts', 'lib/a.ts']. A file importing itself is a cycle too.
 */
export function findCycles(files: readonly SourceFile[]): string[][] {
  const graph = importGraph(files);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || graph.get(v)!.includes(v)) groups.push(group);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => closedPath(graph, new Set(group))).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest closed path through `group` from its first file by name back to it (breadth first). */
function closedPath(graph: Map<string, string[]>, group: Set<string>): string[] {
  const start = [...group].sort()[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** One line per cycle, for an assertion message: 'lib/a.ts -> lib/b.ts -> lib/a.ts'. */
export function describeCycles(cycles: readonly string[][]): string {
  return cycles.map((c) => c.join(' -> ')).join('\n');
}

/**
 * The packages a module loads when it runs: its value imports followed through the tree (`import type`,
 * `export type` and `{ type A } from` are erased, so they load nothing). Says, for one, that the inference worker does
 * not load the image decoders.
 */
export function packagesLoadedBy(files: readonly SourceFile[], start: string): Set<string> {
  const byName = new Map(files.map((f) => [f.file, f.source]));
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = (byName.get(file) ?? '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/^\s*(?:import|export)\s+(?!type\b)([^'";]*?\bfrom\s*)?['"]([^'"]+)['"]/gm)) {
      // `{ type A, type B } from` names types only: erased like `import type`.
      const names = /^\{([^}]*)\}/.exec((m[1] ?? '').trim())?.[1]?.split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
      const spec = m[2]!;
      if (spec.startsWith('.')) visit(resolve(file, spec));
      else packages.add(spec);
    }
  };
  visit(start);
  return packages;
}
