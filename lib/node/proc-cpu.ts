// CPU time of a process, or of a process tree, from /proc/<pid>/stat (Linux; Node gives no rusage of
// a child while it runs). The bench reports k6's CPU, the harness each load generator's and the
// server's, the report what an idle server burns while another one is measured.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (USER_HZ: 100 on every Linux ABI Node runs on). */
const USER_HZ = 100;

/** utime + stime (fields 14, 15 of /proc/<pid>/stat) of one live process, in seconds; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  const fields = readStat(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / USER_HZ : null;
}

/** utime + stime of pid and all its descendants, in seconds. */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  let total = 0;
  const stats = new Map<number, string[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = readStat(Number(entry));
    if (!fields) continue;
    stats.set(Number(entry), fields);
    const ppid = Number(fields[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    const fields = stats.get(p);
    if (!fields) continue;
    total += Number(fields[11]) + Number(fields[12]);
    todo.push(...(children.get(p) ?? []));
  }
  return total / USER_HZ;
}

/** The fields after `(comm)`, so index 0 is the state (field 3): comm may hold spaces. */
function readStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
