// The console's closing table: the figures a reader wants before opening report.md.
import type { Report } from './model.ts';
import { BASELINE } from './model.ts';
import { textTable } from '../../lib/text-table.ts';


export function resultsTableText(r: Report): string {
  const head = ['impl', 'level', 'rounds', 'req/s', 'p50 ms', 'p99 ms', 'speedup'];
  const rows = r.results.map((x) => {
    const sp = r.speedups.find((s) => s.impl === x.impl && s.level === x.level)?.rps;
    return [x.impl, String(x.level), String(x.rounds), x.rps.median.toFixed(2), x.p50_ms.median.toFixed(1), x.p99_ms.median.toFixed(1), x.impl === BASELINE ? '1.00x' : sp ? `${sp.median.toFixed(2)}x [${sp.min.toFixed(2)}-${sp.max.toFixed(2)}]` : 'n/a'];
  });
  return textTable([head, ...rows], 'l').join('\n');
}
