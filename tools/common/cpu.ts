// CPU time of a child process (k6), sampled from /proc/<pid>/stat (utime + stime) while it runs:
// Node gives no rusage of a reaped child, and k6's own cost is a figure a distributed run must
// report (is one k6 the bottleneck?). The last sample is at most `period_ms` before the exit.
// Linux only; elsewhere the figure is null.
import { cpuSeconds } from '../../lib/node/proc-cpu.ts';

interface CpuSampler {
  /** Seconds of CPU the process had used at the last sample (null: no sample could be read). */
  stop(): number | null;
}

export function sampleCpu(pid: number | undefined, period_ms = 250): CpuSampler {
  let last: number | null = pid === undefined ? null : cpuSeconds(pid);
  const timer = setInterval(() => {
    const v = pid === undefined ? null : cpuSeconds(pid);
    if (v !== null) last = v;
  }, period_ms);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return last === null ? null : Math.round(last * 100) / 100;
    },
  };
}
