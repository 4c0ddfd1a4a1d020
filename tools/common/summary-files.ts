// Writes a run's summary files (summary.json, summary.txt, junit.xml) on the Node side: the bench after
// post-processing and the merge of N runners. Their content comes from lib/summary.ts's summaryFiles,
// the same function k6's handleSummary returns them from, so every writer writes the same files.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summaryFiles, type Summary } from '../../lib/summary.ts';

export function writeSummaryFiles(dir: string, summary: Summary): void {
  for (const [name, content] of Object.entries(summaryFiles(summary))) writeFileSync(join(dir, name), content);
}
