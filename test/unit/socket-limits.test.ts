// The budget of socket events: verdicts in the order the events came (a device's fixes must not
// be reordered, or the older ones are dropped as stale), refusals past the budget, and the count
// of refusals in a row that closes a spectator's connection.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBudget } from '../../server/realtime/socket-limits.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('the event budget', () => {
  it('answers in the order the events came, when the second window opens part-way through a burst', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 2, 8, 0, 0, 100));
    const budget = new EventBudget(10, { points: 1200, durationSec: 60 }, Infinity, 'order-test');
    const order: number[] = [];
    const takes: Array<Promise<unknown>> = [];
    const take = (k: number) => takes.push(budget.take('phone').then(() => void order.push(k)));
    // Ten within the second's budget, five more from the burst's...
    for (let k = 0; k < 15; k++) take(k);
    // ...and, the next second begun, five from the second's budget again.
    vi.setSystemTime(Date.UTC(2026, 11, 2, 8, 0, 1, 200));
    for (let k = 15; k < 20; k++) take(k);
    await Promise.all(takes);
    expect(order).toEqual(Array.from({ length: 20 }, (_, k) => k));
  });

  it('refuses past the second and the burst, says when to retry, and counts refusals in a row', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 2, 8, 0, 0, 0));
    const budget = new EventBudget(2, { points: 3, durationSec: 10 }, 4, 'refuse-test');
    const verdicts = await Promise.all(Array.from({ length: 9 }, () => budget.take('socket')));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(5);
    const refused = verdicts.filter((v) => !v.ok);
    expect(refused.map((v) => !v.ok && v.close)).toEqual([false, false, false, true]);
    expect(refused.every((v) => !v.ok && v.retryAfterMs > 0 && v.retryAfterMs <= 10_000)).toBe(true);
    // Another key has its own budget.
    expect(await budget.take('other')).toEqual({ ok: true });
  });
});
