// Triton-style queue policy (model config `dynamic_batching.default_queue_policy`): a bound on the
// requests waiting to execute (max_queue_size) and a limit on how long one may wait
// (default_timeout_microseconds). Past either the request is refused at once, 503 queue_full or
// queue_timeout with Retry-After, instead of waiting without bound: a client learns in
// milliseconds that the server is full rather than after a 60 s timeout, and the server's memory
// and latency stay bounded. One policy per implementation; every implementation's queue (baseline's
// serial queue, the model scheduler of concurrent/batched/int8, the worker pool's queue for stacked)
// asks it before queueing, and tells it when a request leaves the queue to execute.
import { durationText } from '../../lib/knobs.ts';

export interface QueueSettings {
  /** Most requests waiting to execute; 0 = unbounded (Triton's default). */
  maxQueueSize: number;
  /** Longest wait before execution starts, microseconds; 0 = no limit (Triton's default). */
  timeoutUs: number;
}

/** Configured queue bound: a number, or 'auto' = QUEUE_PER_SLOT requests per execution slot. */
export type QueueMaxSize = number | 'auto';

/**
 * Queued requests per execution slot under 'auto'. 8 keeps the closed-loop levels up to 8 VUs free of
 * refusals on baseline (1 slot: 1 running + 7 waiting) and bounds the wait to about 8 executions.
 */
export const QUEUE_PER_SLOT = 8;

/** The queue bound of an implementation that executes `slots` requests at a time. */
export function queueSettings(config: { queueMaxSize: QueueMaxSize; queueTimeoutUs: number }, slots: number): QueueSettings {
  const maxQueueSize = config.queueMaxSize === 'auto' ? QUEUE_PER_SLOT * Math.max(1, slots) : config.queueMaxSize;
  return { maxQueueSize, timeoutUs: config.queueTimeoutUs };
}

/** A request refused by the queue policy; the HTTP layer answers it 503 with Retry-After. */
export class QueueRefusal extends Error {
  override name = 'QueueRefusal';
  constructor(
    readonly code: 'queue_full' | 'queue_timeout',
    message: string,
    /** Seconds a client should wait before retrying. */
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

export class QueuePolicy {
  private waiting = 0;

  constructor(
    readonly impl: string,
    readonly settings: QueueSettings,
  ) {}

  /** Requests admitted and not yet executing (Triton's pending request count). */
  get queued(): number {
    return this.waiting;
  }

  /** Throws the queue_full refusal admit() would, without admitting: lets a route refuse before decoding. */
  refuseIfFull(): void {
    const { maxQueueSize } = this.settings;
    if (maxQueueSize > 0 && this.waiting >= maxQueueSize) throw this.full();
  }

  private full(): QueueRefusal {
    return new QueueRefusal('queue_full', `${this.impl}: ${this.waiting} request(s) already queued, the limit (QUEUE_MAX_SIZE=${this.settings.maxQueueSize}); retry later`, 1);
  }

  /**
   * Admits one request into the queue, or throws QueueRefusal('queue_full'). `onExpire` runs when the
   * queue timeout passes before start(): the queue must then drop the request (its work never runs)
   * and fail it with the refusal it is given.
   */
  admit(onExpire: (refusal: QueueRefusal) => void = () => {}): QueueTicket {
    this.refuseIfFull();
    this.waiting++;
    return new QueueTicket(this, onExpire);
  }

  /** Called by a ticket leaving the queue (started, expired or cancelled). */
  release(): void {
    this.waiting--;
  }
}

/** One admitted request's place in the queue. */
export class QueueTicket {
  private state: 'queued' | 'started' | 'expired' | 'cancelled' = 'queued';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly policy: QueuePolicy,
    onExpire: (refusal: QueueRefusal) => void,
  ) {
    const { timeoutUs } = policy.settings;
    if (timeoutUs > 0) {
      this.timer = setTimeout(() => {
        if (this.state !== 'queued') return;
        this.state = 'expired';
        policy.release();
        const ms = timeoutUs / 1000;
        onExpire(new QueueRefusal('queue_timeout', `${policy.impl}: waited ${ms} ms in the queue without starting (QUEUE_TIMEOUT=${durationText(timeoutUs / 1e6)}); retry later`, Math.max(1, Math.ceil(ms / 1000))));
      }, timeoutUs / 1000);
    }
  }

  get expired(): boolean {
    return this.state === 'expired';
  }

  /** The request leaves the queue to execute. False when it already timed out: skip its work. */
  start(): boolean {
    if (this.state === 'started') return true;
    if (this.state !== 'queued') return false;
    this.state = 'started';
    clearTimeout(this.timer);
    this.policy.release();
    return true;
  }

  /** The request leaves the queue without executing (closing, a failure before its turn). */
  cancel(): void {
    if (this.state !== 'queued') return;
    this.state = 'cancelled';
    clearTimeout(this.timer);
    this.policy.release();
  }
}
