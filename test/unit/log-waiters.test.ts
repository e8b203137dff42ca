// Requests waiting for their own entry to come back from a race's log, on a manual clock.
import { afterEach, describe, expect, it } from 'vitest';
import { LogWaiters } from '../../server/log-waiters.ts';

const made: LogWaiters[] = [];
afterEach(() => {
  // (Every test reads its entries back or lets them be forgotten: nothing is left on its way.)
  for (const w of made.splice(0)) expect(w.size).toBe(0);
});

function waitersOnClock() {
  const clock = { nowMs: 0 };
  const waiters = new LogWaiters('process-a', () => clock.nowMs);
  made.push(waiters);
  return { clock, waiters };
}

describe('entries on their way through the log', () => {
  it('answers a request with what applying its entry gave, once read back', async () => {
    const { waiters } = waitersOnClock();
    const { tag, applied } = waiters.wait();
    expect(waiters.isOwn(tag)).toBe(true);
    expect(waiters.size).toBe(1);
    waiters.resolve(tag, true);
    expect(await applied).toBe(true);
    expect(waiters.size).toBe(0);
  });

  it('answers a request not read back within APPLY_WAIT_MS with null, and counts its entry as on its way until it is read back', async () => {
    const { clock, waiters } = waitersOnClock();
    const first = waiters.wait();
    clock.nowMs = LogWaiters.APPLY_WAIT_MS - 1;
    const second = waiters.wait();
    clock.nowMs = LogWaiters.APPLY_WAIT_MS;
    waiters.sweep();
    expect(await first.applied).toBeNull();
    // Answered, but its entry has not come back: a process whose reading lags takes no more for it.
    expect(waiters.size).toBe(2);
    expect(waiters.has(first.tag)).toBe(false);
    waiters.resolve(first.tag, true); // read back at last
    expect(waiters.size).toBe(1);
    waiters.resolve(second.tag, false);
    expect(await second.applied).toBe(false);
    expect(waiters.size).toBe(0);
  });

  it('forgets an entry never read back after UNREAD_KEPT_MS, and a request whose append failed at once', async () => {
    const { clock, waiters } = waitersOnClock();
    const lost = waiters.wait();
    const failed = waiters.wait();
    waiters.forget(failed.tag);
    expect(waiters.size).toBe(1);
    clock.nowMs = LogWaiters.APPLY_WAIT_MS;
    waiters.sweep();
    expect(await lost.applied).toBeNull();
    expect(waiters.size).toBe(1);
    clock.nowMs = LogWaiters.UNREAD_KEPT_MS - 1;
    waiters.sweep();
    expect(waiters.size).toBe(1);
    clock.nowMs = LogWaiters.UNREAD_KEPT_MS;
    waiters.sweep();
    expect(waiters.size).toBe(0);
  });
});
