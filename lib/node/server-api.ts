// The Node-side client of the server's HTTP API (GET only): the bench, the report and the accuracy
// replay all read /health, /implementations, /metrics and /vram through these, with one error form.
import type { ImplementationInfo, ImplementationsResponse } from '../types.ts';

export async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

/** GET /implementations: name, description and lossless flag of each implementation the server serves. */
export async function listImplementations(target: string): Promise<ImplementationInfo[]> {
  return (await getJson<ImplementationsResponse>(`${target}/implementations`)).implementations;
}

export async function getText(url: string, timeoutMs = 5000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}
