// Names of results folders, shared by every command that writes one (bench, report, harness, tune ...).

/** Run-folder timestamp: ISO 8601 without ':' or fractions, so names sort by start time. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}
