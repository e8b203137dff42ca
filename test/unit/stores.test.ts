import { describe, expect, it } from 'vitest';
import { CONTRACT_LEASE_TTL_MS, storeContract } from '../contract/stores.contract.ts';
import { MemoryPingLog, createMemoryStores, type MemoryRaceLeases } from '../../server/ports/stores.ts';

storeContract('in-memory', async () => {
  const stores = createMemoryStores({ holderId: 'me', leaseTtlMs: CONTRACT_LEASE_TTL_MS });
  return { stores, otherLeases: (stores.leases as MemoryRaceLeases).forHolder('other'), close: () => stores.close() };
});

describe('the in-memory ping log', () => {
  it('is bounded in total, whatever the number of races: the oldest are forgotten and counted, the newest kept', async () => {
    const told: number[] = [];
    const log = new MemoryPingLog(1000, (forgotten) => told.push(forgotten));
    const ping = (raceId: string, i: number) => ({ raceId, participantId: 'p', receivedAtMs: i, fix: { lat: 35, lon: 51, recordedAtMs: 1_800_000_000_000 + i } });
    // A race made at run time gets no bound of its own: three races share the one.
    for (let i = 0; i < 3000; i++) await log.append(ping(['a', 'b', 'c'][i % 3]!, i));
    const counts = await Promise.all(['a', 'b', 'c'].map((r) => log.count(r)));
    const kept = counts.reduce((a, b) => a + b, 0);
    expect(kept).toBeLessThanOrEqual(1100);
    expect(kept).toBeGreaterThanOrEqual(1000);
    expect(log.forgotten).toBe(3000 - kept);
    expect(told.at(-1)).toBe(log.forgotten);
    const newest = (await log.read('c')).at(-1)!;
    expect(newest.receivedAtMs).toBe(2999);
  });
});
