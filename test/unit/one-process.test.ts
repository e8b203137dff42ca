// One server alone on in-memory stores, as `npm start` runs without REDIS_URL. It runs the path a
// process on Redis runs (fixes and organisers' changes through the race's log, applied when read
// back by the race's writer, which it is for every race; delta numbers reserved in checkpoints),
// and answers as the in-memory server always has: a fix with where it put the runner, a change
// once it is made, deltas numbered from 1.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus } from '../../shared/protocol.ts';
import { startCoordinator, type Coordinator } from '../../server/cluster.ts';
import { systemClock } from '../../server/core/clock.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { silentLogger } from '../../server/logger.ts';
import { createMemoryStores, type Stores } from '../../server/ports/stores.ts';
import { RaceService } from '../../server/race-service.ts';
import { testEvent } from '../support/fixtures.ts';

const coordinators: Coordinator[] = [];
afterEach(async () => {
  await Promise.all(coordinators.splice(0).map((c) => c.stop()));
});

/** The race service and its coordinator on `stores`, once it writes every race. */
async function startServer(event: LoadedEvent, stores: Stores) {
  const service = await RaceService.create({ event, stores, clock: systemClock, logger: silentLogger, defaultStartMs: Date.now() });
  const coordinator = startCoordinator({ service, stores, logger: silentLogger });
  coordinators.push(coordinator);
  await expect.poll(() => service.raceIds().every((raceId) => coordinator.isWriter(raceId))).toBe(true);
  return { service, coordinator };
}

async function sendFix(service: RaceService, event: LoadedEvent, index: number, metres: number, agoMs: number) {
  const race = event.races[0]!;
  const device = service.authenticateDevice(race.participants[index]!.deviceToken)!;
  const [lon, lat] = race.course.path.pointAtRaceDistance(metres);
  return service.ingestFix(device, { lon, lat, recordedAtMs: Date.now() - agoMs, accuracyM: 5 });
}

describe('one process on in-memory stores', () => {
  it('stores a fix in the log and applies it before answering, with where it put the runner; deltas are numbered from 1', async () => {
    const event = await testEvent(Date.now() - 20 * 60_000);
    const stores = createMemoryStores();
    const { service } = await startServer(event, stores);
    for (let k = 0; k < 4; k++) {
      const ack = await sendFix(service, event, 0, 1500 + k * 20, (4 - k) * 5000);
      expect(ack.ok).toBe(true);
      if (!ack.ok) return;
      // Where this fix put the runner, as the race's state holds it now (rounded on the wire).
      expect(ack.data.distanceAlongRaceM).toBeCloseTo(service.race('street-10k')!.tracker.runnerState('s-1')!.distanceAlongRaceM, 0);
    }
    expect(service.race('street-10k')!.tracker.runnerState('s-1')!.distanceAlongRaceM).toBeGreaterThan(1500);
    expect(await stores.pingLog.count('street-10k')).toBe(4);
    expect(service.fixCounts).toEqual({ stored: 4, applied: 4 });
    expect((await service.takeDelta('street-10k', Date.now()))?.delta.seq).toBe(1);
    await sendFix(service, event, 0, 1600, 0);
    expect((await service.takeDelta('street-10k', Date.now()))?.delta.seq).toBe(2);
  });

  it('answers an organiser\'s change once it is made, and keeps it in the race\'s log', async () => {
    const event = await testEvent(Date.now() - 20 * 60_000);
    const stores = createMemoryStores();
    const { service } = await startServer(event, stores);
    expect(await service.setOutcome('s-2', 'dnf', 'organiser')).toBe('done');
    expect(service.race('street-10k')!.tracker.runnerState('s-2')!.status).toBe(RunnerStatus.dnf);
    expect((await stores.pingLog.readAfter('street-10k', null)).map((e) => e.change)).toEqual([{ kind: 'outcome', participantId: 's-2', outcome: 'dnf', by: 'organiser' }]);
    expect(await service.setOutcome('nobody', 'dnf', 'organiser')).toBe('unknown');
  });

  it('started again on the same stores, continues every runner where it was and never sends a delta number twice', async () => {
    const event = await testEvent(Date.now() - 20 * 60_000);
    const stores = createMemoryStores();
    const first = await startServer(event, stores);
    for (let k = 0; k < 4; k++) await sendFix(first.service, event, 0, 2000 + k * 20, (6 - k) * 5000);
    expect((await first.service.takeDelta('street-10k', Date.now()))?.delta.seq).toBe(1);
    // After the checkpoint that delta wrote: two fixes and a DNF, in the log only.
    for (let k = 4; k < 6; k++) await sendFix(first.service, event, 0, 2000 + k * 20, (6 - k) * 5000);
    expect(await first.service.setOutcome('s-3', 'dnf', 'organiser')).toBe('done');
    const where = first.service.race('street-10k')!.tracker.runnerState('s-1')!.distanceAlongRaceM;
    await first.coordinator.stop();

    const second = await startServer(event, stores);
    const tracker = second.service.race('street-10k')!.tracker;
    expect(tracker.runnerState('s-1')!.distanceAlongRaceM).toBe(where);
    expect(tracker.runnerState('s-3')!.status).toBe(RunnerStatus.dnf);
    // After the block of 100 numbers the first delta reserved: none the first process could have sent.
    expect((await second.service.takeDelta('street-10k', Date.now()))?.delta.seq).toBe(101);
  });

  it('with the bound of fixes on their way through the log reached, answers a new fix "send again" at once and stores nothing of it', async () => {
    const event = await testEvent(Date.now() - 20 * 60_000);
    const stores = createMemoryStores();
    const { service } = await startServer(event, stores);
    const race = event.races[0]!;
    const device = service.authenticateDevice(race.participants[0]!.deviceToken)!;
    const [lon, lat] = race.course.path.pointAtRaceDistance(1500);
    const bound = RaceService.MAX_PINGS_IN_FLIGHT;
    const surplus = 7;
    const firstAtMs = Date.now() - 10 * 60_000;
    // All sent before any is read back (a flood arriving faster than the log takes it).
    const answers = await Promise.all(Array.from({ length: bound + surplus }, (_, k) => service.ingestFix(device, { lon, lat, recordedAtMs: firstAtMs + k * 10, accuracyM: 5 })));
    const refused = answers.filter((a) => !a.ok);
    expect(refused).toHaveLength(surplus);
    expect(refused.every((a) => !a.ok && a.code === ErrorCodes.UNAVAILABLE)).toBe(true);
    // The refused are the newest ones, and nothing of them is in the log.
    expect(answers.slice(bound).every((a) => !a.ok)).toBe(true);
    expect(await stores.pingLog.count('street-10k')).toBe(bound);
    expect(service.fixCounts.stored).toBe(bound);
    expect(service.fixesInFlight).toBe(0);
    // Once the log has caught up, the same fix sent again is taken.
    const again = await service.ingestFix(device, { lon, lat, recordedAtMs: firstAtMs + bound * 10, accuracyM: 5 });
    expect(again.ok).toBe(true);
    expect(await stores.pingLog.count('street-10k')).toBe(bound + 1);
  });
});
