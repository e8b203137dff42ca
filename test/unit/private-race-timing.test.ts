// A private race must not be told apart from an unknown one, by the answer or by its time. Each
// was answered alike before, but only a private race's key was hashed (6–20 µs more). The two
// are measured here interleaved, in the same process, many times over: the check is of a ratio
// near 1, where the leak was a factor of 20 or more, so a noisy machine does not make it flaky.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../server/core/clock.ts';
import { silentLogger } from '../../server/logger.ts';
import { createMemoryStores } from '../../server/ports/stores.ts';
import { RaceService } from '../../server/race-service.ts';
import { testEvent } from '../support/fixtures.ts';

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('private and unknown races', () => {
  it('take the same time to refuse', async () => {
    const event = await testEvent(Date.now(), 4);
    const privateRace = event.races.find((r) => r.isPrivate)!;
    const service = await RaceService.create({ event, stores: createMemoryStores(), clock: systemClock, logger: silentLogger, defaultStartMs: Date.now() });
    const wrongKey = 'not-the-key-of-this-race-at-all';
    const timeOf = (raceId: string): number => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 200; i += 1) service.findViewableRace(raceId, { key: wrongKey, isOrganiser: false });
      return Number(process.hrtime.bigint() - started);
    };
    const privateNs: number[] = [];
    const unknownNs: number[] = [];
    for (let round = 0; round < 60; round += 1) {
      privateNs.push(timeOf(privateRace.raceId));
      unknownNs.push(timeOf('no-such-race'));
    }
    expect(service.findViewableRace(privateRace.raceId, { key: wrongKey, isOrganiser: false })).toBeNull();
    expect(service.findViewableRace('no-such-race', { key: wrongKey, isOrganiser: false })).toBeNull();
    const ratio = medianOf(privateNs) / medianOf(unknownNs);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});
