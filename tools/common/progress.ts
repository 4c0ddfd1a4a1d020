// One line per orchestration step with its duration, so a slow step is visible at a glance.
export async function step<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  try {
    const out = await fn();
    console.log(`bench: ${what} (${fmt(performance.now() - started)})`);
    return out;
  } catch (e) {
    console.log(`bench: ${what} FAILED after ${fmt(performance.now() - started)}`);
    throw e;
  }
}

export function note(line: string): void {
  console.log(`bench: ${line}`);
}

function fmt(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A failure that ends the run with one line naming cause and fix. */
export class BenchError extends Error {
  override name = 'BenchError';
}
