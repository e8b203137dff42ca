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
  /**
   * How long an entry answered before it was read back still counts as on its way (`size`): a
   * process whose reading of the log falls behind must not take ever more fixes because their
   * requests were answered. Forgotten after this (an entry that never comes back, a race gone).
   */
  static readonly UNREAD_KEPT_MS = 60_000;
  private readonly waiting = new Map<string, { resolve: (result: AppliedResult) => void; sinceMs: number }>();
  /** Entries answered before they were read back, by tag: since when (insertion order is age order). */
  private readonly unread = new Map<string, number>();
  private nextTag = 1;
  private sweeper: NodeJS.Timeout | null = null;

  /** `holderId`: this process's lease-holder name ("#" never occurs in one). */
  constructor(
    holderId: string,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.prefix = `${holderId}#`;
  }

  private readonly prefix: string;

  /** Entries on their way through the log: requests waiting now, and those answered but not read back yet. */
  get size(): number {
    return this.waiting.size + this.unread.size;
  }

  /** Whether a log entry's tag is one of this process's. */
  isOwn(tag: string | null): boolean {
    return tag !== null && tag.startsWith(this.prefix);
  }

  /** A new tag and the promise of its entry's result. */
  wait(): { tag: string; applied: Promise<AppliedResult> } {
    const tag = `${this.prefix}${this.nextTag++}`;
    const applied = new Promise<AppliedResult>((resolve) => {
      this.waiting.set(tag, { resolve, sinceMs: this.nowMs() });
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
    if (!waiter) {
      this.unread.delete(tag);
      return;
    }
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
    this.unread.delete(tag);
  }

  /** Answers the requests that have waited too long (with null); forgets entries unread for long. */
  sweep(): void {
    const nowMs = this.nowMs();
    // Insertion order is age order: stop at the first young one.
    for (const [tag, sinceMs] of this.unread) {
      if (sinceMs > nowMs - LogWaiters.UNREAD_KEPT_MS) break;
      this.unread.delete(tag);
    }
    for (const [tag, waiter] of this.waiting) {
      if (waiter.sinceMs > nowMs - LogWaiters.APPLY_WAIT_MS) break;
      this.waiting.delete(tag);
      this.unread.set(tag, waiter.sinceMs);
      waiter.resolve(null);
    }
    if (this.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
