// The documentation's shape: README.md is a front door of at most 200 lines, every make target with
// help text (`## ` in the Makefile) is documented as `make <target>` in README.md or docs/*.md, and
// every relative link in them points at a file that exists (and at a heading of it, for a #fragment).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** README.md and every docs/*.md, relative to the repository root. */
function docFiles(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** The Makefile's targets that `make help` lists: `name: ... ## text`. */
export function helpTargets(makefile: string): string[] {
  return [...makefile.matchAll(/^([a-z0-9][a-z0-9-]*):[^\n]*?## /gm)].map((m) => m[1]!);
}

/** Markdown links `[text](target)` outside code: the targets that are neither URLs nor in-page anchors. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'));
}

/** GitHub's anchors of a markdown file's headings: lower case, punctuation dropped, spaces as '-'. */
export function headingAnchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...prose.matchAll(/^#{1,6} +(.+?) *$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
}

/** `make <target>` as a whole word: `make bench` is not found in `make bench-models`. */
const mentions = (text: string, target: string) => new RegExp(`\\bmake ${target.replace(/-/g, '\\-')}(?![\\w-])`).test(text);

describe('docs', () => {
  it('README.md has at most 200 lines', () => {
    const lines = read('README.md').split('\n').length - (read('README.md').endsWith('\n') ? 1 : 0);
    assert.ok(lines <= 200, `README.md has ${lines} lines: move a topic to docs/`);
  });

  it('every make target with help text appears as `make <target>` in README.md or docs/*.md', () => {
    const targets = helpTargets(read('Makefile'));
    assert.ok(targets.includes('bench') && targets.includes('test') && targets.includes('help'), `targets parsed: ${targets.join(', ')}`);
    const text = docFiles().map(read).join('\n');
    const missing = targets.filter((t) => !mentions(text, t));
    assert.deepEqual(missing, [], `not documented anywhere: ${missing.map((t) => `make ${t}`).join(', ')}`);
  });

  it('every relative link in README.md and docs/*.md points at an existing file (and heading)', () => {
    const broken: string[] = [];
    for (const file of docFiles()) {
      const text = read(file);
      const links = [...relativeLinks(text), ...[...text.matchAll(/\]\((#[^)\s]+)\)/g)].map((m) => m[1]!)];
      for (const link of links) {
        const [path, fragment] = link.split('#') as [string, string | undefined];
        const target = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) broken.push(`${file}: ${link} (${relative(ROOT, target)} does not exist)`);
        else if (fragment !== undefined && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(fragment)) {
          broken.push(`${file}: ${link} (no heading #${fragment} in ${relative(ROOT, target)})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  it('the checks can fail: a missing target, a bare word and a broken link are caught', () => {
    assert.deepEqual(helpTargets('a: ## x\nb-c: d ## y\n.PHONY: a\ne:\n\tcmd ## not help\n'), ['a', 'b-c']);
    assert.ok(!mentions('run make bench-models', 'bench'));
    assert.ok(mentions('run `make bench`.', 'bench'));
    assert.ok(!mentions('the bench target', 'bench'));
    assert.deepEqual([...headingAnchors('# A\n## `make triton`\n### int8 (lossy)\n```\n# not a heading\n```\n')], ['a', 'make-triton', 'int8-lossy']);
    assert.deepEqual(relativeLinks('[a](docs/x.md) [b](https://x.org) [c](#top) `[d](no.md)`\n```\n[e](no.md)\n```\n[f](../y.md#z)'), ['docs/x.md', '../y.md#z']);
  });
});
