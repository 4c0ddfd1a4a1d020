// One task at a time, in arrival order, under an optional queue policy: the baseline's serialisation
// lock (one request at a time for the whole server).
import type { QueuePolicy, QueueRefusal, QueueTicket } from './queue-policy.ts';

/**
 * Runs one task at a time, in arrival order. With a queue policy, a task over its bound is refused at
 * once and one that times out in the queue is failed at its deadline and skipped when its turn comes.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingCount = 0;

  constructor(private readonly policy?: QueuePolicy) {}

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return this.waitingCount;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    let refuse: (e: QueueRefusal) => void = () => {};
    const refused = new Promise<never>((_resolve, reject) => (refuse = reject));
    let ticket: QueueTicket | undefined;
    try {
      ticket = this.policy?.admit((r) => refuse(r));
    } catch (err) {
      return Promise.reject(err);
    }
    this.waitingCount++;
    const result = this.tail.then(() => {
      this.waitingCount--;
      // Timed out while waiting: its caller already has the refusal; run nothing.
      if (ticket && !ticket.start()) return undefined as T;
      return task();
    });
    this.tail = result.catch(() => undefined);
    return ticket ? Promise.race([result, refused]) : result;
  }
}
