// The one plain-text table: columns padded to their widest cell (header included), two spaces apart.
// Pure TypeScript: summary.txt (written inside k6), the accuracy table, the report's console table.

/** rows[0] is the header. align: one 'l' or 'r' per column, from the left; columns past it are right-aligned. */
export function textTable(rows: readonly (readonly string[])[], align = 'l'): string[] {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) => r.map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}
