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

  it('saves a race\'s alerts with a checkpoint only when they changed, and a restarted process has them', async () => {
    const event = await testEvent(Date.now() - 20 * 60_000);
    const stores = createMemoryStores();
    const { service, coordinator } = await startServer(event, stores);
    // Each checkpoint's alerts, as the race service hands them to the store: undefined when left as saved.
    const given: Array<readonly object[] | undefined> = [];
    const checkpoint = stores.runnerStates.checkpoint.bind(stores.runnerStates);
    stores.runnerStates.checkpoint = (raceId, states, meta, holderId, alerts) => {
      if (raceId === 'street-10k') given.push(alerts);
      return checkpoint(raceId, states, meta, holderId, alerts);
    };
    let fixes = 0;
    const tick = async (metres: number) => {
      // A fix every 5 s, the newest now: each moves the runner.
      fixes += 1;
      await sendFix(service, event, 0, metres, (6 - fixes) * 5000);
      const before = given.length;
      await service.takeDelta('street-10k', Date.now());
      await expect.poll(() => given.length).toBe(before + 1);
    };
    await tick(1000);
    expect(given[0]).toEqual([]);
    await tick(1020);
    await tick(1040);
    expect(given.slice(1)).toEqual([undefined, undefined]);
    // An SOS: the next checkpoint writes the race's alerts, the one after leaves them.
    const device = service.authenticateDevice(event.races[0]!.participants[1]!.deviceToken)!;
    const sos = await service.raiseSos(device, { recordedAtMs: Date.now() });
    expect(sos.ok).toBe(true);
    await tick(1060);
    expect(given[3]).toEqual([expect.objectContaining({ kind: 'sos', participantId: device.participantId, state: 'open' })]);
    await tick(1080);
    expect(given[4]).toBeUndefined();
    await coordinator.stop();

    const again = await startServer(event, stores);
    expect(again.service.recentAlerts()).toEqual([expect.objectContaining({ kind: 'sos', participantId: device.participantId, state: 'open' })]);
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
