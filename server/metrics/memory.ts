// The memory figure behind /vram and the nv_*memory* gauges: device memory on CUDA (nvidia-smi),
// host RSS on CPU, and the peak since the last reset.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { MemoryResponse } from '../../lib/types.ts';

const MB = 1024 * 1024;

/** /vram: device memory on CUDA (nvidia-smi, this process), host RSS on CPU; peak since reset. */
export class MemoryTracker {
  private peakBytes = 0;
  private lastGpuBytes = 0;
  private window?: string;
  private timer?: NodeJS.Timeout;

  constructor(private device: 'host' | 'cuda' = 'host') {}

  setDevice(device: 'host' | 'cuda'): void {
    this.device = device;
    this.reset();
    // nvidia-smi is slow (tens of ms), so the GPU figure is sampled in the background.
    if (device === 'cuda' && !this.timer) {
      this.timer = setInterval(() => void this.sampleGpu(), 1000);
      this.timer.unref();
      void this.sampleGpu();
    }
  }

  private sampleGpu(): Promise<void> {
    return new Promise((resolve) => {
      execFile('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, out) => {
        if (!err) {
          const mine = out
            .split('\n')
            .map((l) => l.split(',').map((s) => s.trim()))
            .filter(([pid]) => Number(pid) === process.pid);
          this.lastGpuBytes = mine.reduce((sum, [, mb]) => sum + Number(mb) * MB, 0);
          this.peakBytes = Math.max(this.peakBytes, this.lastGpuBytes);
        }
        resolve();
      });
    });
  }

  /** Peak RSS from the kernel (VmHWM) when available: it sees spikes that sampling would miss. */
  private static hostPeak(): number | undefined {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  read(): MemoryResponse {
    if (this.device === 'cuda') {
      return { device: 'cuda', used_mb: this.lastGpuBytes / MB, peak_mb: this.peakBytes / MB, ...this.named() };
    }
    const rss = process.memoryUsage.rss();
    this.peakBytes = Math.max(this.peakBytes, rss, MemoryTracker.hostPeak() ?? 0);
    return { device: 'host', used_mb: rss / MB, peak_mb: this.peakBytes / MB, ...this.named() };
  }

  private named(): Pick<MemoryResponse, 'window'> {
    return this.window === undefined ? {} : { window: this.window };
  }

  /**
   * Starts a new peak window, named `window` when given (a bench marks the end of its warm-up so
   * memory growth counts from there); on Linux also resets the kernel's VmHWM (clear_refs 5).
   */
  reset(window?: string): MemoryResponse {
    this.window = window;
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // Not Linux or not permitted: the sampled peak still restarts from now.
    }
    this.peakBytes = this.device === 'cuda' ? this.lastGpuBytes : process.memoryUsage.rss();
    return this.read();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
