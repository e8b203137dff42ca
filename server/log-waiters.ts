// Requests waiting for their own entry to come back from a race's shared log: a fix or an
// organiser's change is appended with a tag naming this process and the request, and answered
// when this process reads that entry back and applies it (race-service.ts), or after
// APPLY_WAIT_MS at most (then with null: it is stored, and will be applied). One sweeper timer for
// all of them, while any waits: a timer per fix would cost more than the fix.
import type { PositionAccepted } from '../shared/protocol.ts';

/** What applying an entry gave: where a fix put its runner, whether a change applied; null: not known here. */
export type AppliedResult = PositionAccepted | boolean | null;

export class LogWaiters {
  /** How long a request waits to be read back before it is answered anyway. */
  static readonly APPLY_WAIT_MS = 5000;
  private readonly waiting = new Map<string, { resolve: (result: AppliedResult) => void; sinceMs: number }>();
  private nextTag = 1;
  private sweeper: NodeJS.Timeout | null = null;

  /** `holderId`: this process's lease-holder name ("#" never occurs in one). */
  constructor(holderId: string) {
    this.prefix = `${holderId}#`;
  }

  private readonly prefix: string;

  /** Requests waiting now. */
  get size(): number {
    return this.waiting.size;
  }

  /** Whether a log entry's tag is one of this process's. */
  isOwn(tag: string | null): boolean {
    return tag !== null && tag.startsWith(this.prefix);
  }

  /** A new tag and the promise of its entry's result. */
  wait(): { tag: string; applied: Promise<AppliedResult> } {
    const tag = `${this.prefix}${this.nextTag++}`;
    const applied = new Promise<AppliedResult>((resolve) => {
      this.waiting.set(tag, { resolve, sinceMs: performance.now() });
    });
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), 500);
      this.sweeper.unref();
    }
    return { tag, applied };
  }

  /** Answers the request of a tag (if it waits here) and forgets it. */
  resolve(tag: string | null, result: AppliedResult): void {
    if (tag === null) return;
    const waiter = this.waiting.get(tag);
    if (!waiter) return;
    this.waiting.delete(tag);
    waiter.resolve(result);
  }

  /** Whether a request waits for this tag here. */
  has(tag: string | null): boolean {
    return tag !== null && this.waiting.has(tag);
  }

  /** Gives up waiting for a tag (its append failed). */
  forget(tag: string): void {
    this.waiting.delete(tag);
  }

  /** Answers the requests that have waited too long (with null). */
  sweep(): void {
    const oldestMs = performance.now() - LogWaiters.APPLY_WAIT_MS;
    // Insertion order is age order: stop at the first young one.
    for (const [tag, waiter] of this.waiting) {
      if (waiter.sinceMs > oldestMs) break;
      this.waiting.delete(tag);
      waiter.resolve(null);
    }
    if (this.waiting.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
