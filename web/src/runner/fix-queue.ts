// Fixes waiting to be sent, oldest first, kept in browser storage so that neither a lost
// connection nor a page reload loses them.
import type { FixInput } from '../../../shared/protocol.ts';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** About 1.5 MB of storage: over 4 hours of a fix a second. Past it the oldest are dropped. */
export const MAX_QUEUED_FIXES = 15_000;

export class FixQueue {
  private fixes: FixInput[];

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string,
  ) {
    this.fixes = FixQueue.read(storage, key);
  }

  private static read(storage: KeyValueStorage, key: string): FixInput[] {
    try {
      const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]');
      return Array.isArray(parsed) ? (parsed as FixInput[]).filter((f) => typeof f?.recordedAtMs === 'number') : [];
    } catch {
      return []; // unreadable storage is not worth stopping the runner for
    }
  }

  get size(): number {
    return this.fixes.length;
  }

  /** The oldest fix not yet sent. */
  peek(): FixInput | undefined {
    return this.fixes[0];
  }

  add(fix: FixInput): void {
    this.fixes.push(fix);
    // Kept in recorded order even if the browser delivers positions out of order.
    this.fixes.sort((a, b) => a.recordedAtMs - b.recordedAtMs);
    if (this.fixes.length > MAX_QUEUED_FIXES) this.fixes.splice(0, this.fixes.length - MAX_QUEUED_FIXES);
    this.save();
  }

  /** Removes the oldest fix once the server has answered for it. */
  removeOldest(recordedAtMs: number): void {
    if (this.fixes[0]?.recordedAtMs === recordedAtMs) this.fixes.shift();
    this.save();
  }

  private save(): void {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.fixes));
    } catch {
      // Storage full or unavailable: the fixes stay in memory for this page's life.
    }
  }
}
