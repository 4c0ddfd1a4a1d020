// The console's closing table: the figures a reader wants before opening report.md, each speedup
// with its 95 % interval and what it says (faster, slower, not distinguishable), and how it was taken.
import type { Report } from './model.ts';
import { BASELINE } from './model.ts';
import { formatRatio, ratioMethodsUsed } from './stats.ts';
import { textTable } from '../../lib/text-table.ts';

export function resultsTableText(r: Report): string {
  const ref = r.comparisons.reference ?? BASELINE;
  const goodput = r.results.some((x) => x.goodput_rps);
  const head = ['impl', r.mix ? 'model' : 'level', 'rounds', 'req/s', ...(goodput ? ['good/s'] : []), 'p50 ms', 'p99 ms', `req/s over ${ref} (95 % interval)`];
  const rows = r.results.map((x) => {
    const sp = r.speedups.find((s) => s.impl === x.impl && s.level === x.level)?.rps ?? null;
    return [x.impl, String(x.level), String(x.rounds), x.rps.median.toFixed(2), ...(goodput ? [x.goodput_rps ? x.goodput_rps.median.toFixed(2) : 'n/a'] : []), x.p50_ms.median.toFixed(1), x.p99_ms.median.toFixed(1), x.impl === ref ? 'reference' : formatRatio(sp)];
  });
  const note = r.speedups.length > 0 ? [`${ratioMethodsUsed(r.speedups.map((s) => s.rps))}. p50 and p99 ratios: report.md.`] : [];
  // TUNE with both stacks' best: the quote the tuning was for, our best over Triton's best.
  const tuned = (r.tuned_ratios ?? []).map((s) => `${s.impl} over ${s.over} at ${r.mix ? 'model' : 'level'} ${s.level}: req/s ${formatRatio(s.rps)}, p99 ${formatRatio(s.p99)}`);
  return [...textTable([head, ...rows], `lrrr${goodput ? 'r' : ''}rrl`).map((l) => l.trimEnd()), ...note, ...tuned].join('\n');
}
