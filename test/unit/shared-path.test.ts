// Several processes on one log without Redis: two race services in this process on in-memory
// stores shared as Redis would share them, each with its own coordinator. A fix taken
// by the process that does not write the race waits until it is read back and is applied by the
// writer alone; the other keeps the runners as the writer's deltas publish them; delta numbers are
// reserved in the checkpoint, and the process that takes the race over rebuilds the runners from
// the checkpoint and the log and continues after the reserved block.
import { afterEach, describe, expect, it } from 'vitest';
import type { RaceDelta } from '../../shared/wire.ts';
import { RunnerStatus } from '../../shared/protocol.ts';
import { startCoordinator, type Coordinator } from '../../server/cluster.ts';
import { systemClock } from '../../server/core/clock.ts';
import { silentLogger } from '../../server/logger.ts';
import { createSharedMemoryStores } from '../../server/ports/stores.ts';
import { RaceService } from '../../server/race-service.ts';
import { testEvent } from '../support/fixtures.ts';

const coordinators: Coordinator[] = [];
afterEach(async () => {
  await Promise.all(coordinators.splice(0).map((c) => c.stop()));
});

async function twoProcesses() {
  const event = await testEvent(Date.now() - 20 * 60_000);
  const storesFor = createSharedMemoryStores({ leaseTtlMs: 600 });
  const started = await startBoth(event, storesFor);
  return { event, storesFor, ...started };
}

async function startBoth(event: Awaited<ReturnType<typeof testEvent>>, storesFor: ReturnType<typeof createSharedMemoryStores>) {
  const start = async (holderId: string) => {
    const stores = storesFor(holderId);
    const service = await RaceService.create({ event, stores, clock: systemClock, logger: silentLogger, defaultStartMs: Date.now() });
    const coordinator = startCoordinator({ service, stores, logger: silentLogger, renewEveryMs: 50 });
    coordinators.push(coordinator);
    return { service, coordinator };
  };
  const a = await start('a');
  // A holds every race before B starts.
  await expect.poll(() => a.coordinator.isWriter('street-10k')).toBe(true);
  const b = await start('b');
  return { a, b, start };
}

describe('two processes on shared in-memory stores', () => {
  it('applies a fix once, on the writer, whichever process took it; the other shows the writer\'s delta', async () => {
    const { event, a, b } = await twoProcesses();
    const race = event.races[0]!;
    const device = b.service.authenticateDevice(race.participants[0]!.deviceToken)!;
    let delta: RaceDelta | null = null;
    for (let k = 0; k < 6; k++) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(1200 + k * 20);
      // Taken by B, which does not write the race: answered once it is read back, as B last heard.
      const ack = await b.service.ingestFix(device, { lon, lat, recordedAtMs: Date.now() - (6 - k) * 5000, accuracyM: 5 });
      expect(ack).toMatchObject({ ok: true, data: { applied: false } });
      await expect.poll(() => a.service.fixCounts.applied).toBe(k + 1);
      const taken = await a.service.takeDelta('street-10k', Date.now());
      if (taken) {
        delta = taken.delta;
        b.service.observeSequence('street-10k', taken.delta.seq, taken.delta);
      }
    }
    expect(b.service.fixCounts).toEqual({ stored: 6, applied: 0 });
    expect(a.service.fixCounts).toEqual({ stored: 0, applied: 6 });
    expect(delta?.seq).toBeGreaterThan(0);
    const onA = a.service.snapshot(a.service.race('street-10k')!);
    const onB = b.service.snapshot(b.service.race('street-10k')!);
    expect(onA.runners[0]!.distanceAlongRaceM).toBeGreaterThan(1200);
    expect(onB.runners).toEqual(onA.runners);
    expect(onB.seq).toBe(onA.seq);
  });

  it('reserves delta numbers in the checkpoint; a take-over rebuilds the runners from it and the log and continues after the reserved block', async () => {
    const { event, a, b } = await twoProcesses();
    const race = event.races[0]!;
    const deviceOnA = a.service.authenticateDevice(race.participants[1]!.deviceToken)!;
    for (let k = 0; k < 5; k++) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(2000 + k * 20);
      expect((await a.service.ingestFix(deviceOnA, { lon, lat, recordedAtMs: Date.now() - (5 - k) * 5000, accuracyM: 5 })).ok).toBe(true);
    }
    const first = await a.service.takeDelta('street-10k', Date.now());
    expect(first?.delta.seq).toBe(1);
    // Two more fixes after the checkpoint the first delta wrote: only in the log.
    for (let k = 5; k < 7; k++) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(2000 + k * 20);
      expect((await a.service.ingestFix(deviceOnA, { lon, lat, recordedAtMs: Date.now() - (7 - k) * 1000, accuracyM: 5 })).ok).toBe(true);
    }
    // And an organiser's DNF after that checkpoint: B applied it as a change; the rebuild must do it again.
    expect(await a.service.setOutcome('s-3', 'dnf', 'organiser')).toBe('done');
    const whereOnA = a.service.race('street-10k')!.tracker.runnerState('s-2')!.distanceAlongRaceM;
    b.service.observeSequence('street-10k', first!.delta.seq, first!.delta);

    // A goes (its leases handed on); B takes the race over.
    await a.coordinator.stop();
    await expect.poll(() => b.coordinator.isWriter('street-10k'), { timeout: 3000 }).toBe(true);
    // Rebuilt from the checkpoint and the log after it: exactly where A had the runner.
    expect(b.service.race('street-10k')!.tracker.runnerState('s-2')!.distanceAlongRaceM).toBe(whereOnA);
    expect(b.service.race('street-10k')!.tracker.runnerState('s-3')!.status).toBe(RunnerStatus.dnf);
    const next = await b.service.takeDelta('street-10k', Date.now());
    // After A's reserved block (a block of 100 from A's first delta): never a number A could have sent.
    expect(next?.delta.seq).toBe(101);
    expect(next?.delta.entries.find((e) => e.runnerIndex === 1)?.distanceAlongRaceM).toBeCloseTo(whereOnA, 1);
  });

  it('numbers a race\'s runners alike on every process and after a restart, through a move and a new course', async () => {
    const { event, a, b, start } = await twoProcesses();
    const numbers = (service: RaceService) => service.snapshot(service.race('street-10k')!).runners.map((r) => [r.participantId, r.runnerIndex]);
    expect(await a.service.moveParticipant('s-2', 'track-10k', 'organiser')).toBe('moved');
    expect(await a.service.replaceCourse(a.service.race('street-10k')!, event.races[0]!.course)).toBe('done');
    expect(numbers(a.service)).toEqual([
      ['s-1', 0],
      ['s-3', 2],
    ]);
    await expect.poll(() => numbers(b.service)).toEqual(numbers(a.service));
    // The checkpoints written (a delta of each race), a third process starts on the same stores.
    for (const raceId of ['street-10k', 'track-10k']) await a.service.takeDelta(raceId, Date.now());
    const c = await start('c');
    expect(numbers(c.service)).toEqual(numbers(a.service));
    expect(c.service.participant('s-2')?.raceId).toBe('track-10k');
  });

  it('reads the runners again from the checkpoint when a delta was missed, so a runner seen only in it is not left behind', async () => {
    const { event, a, b } = await twoProcesses();
    const race = event.races[0]!;
    const send = async (index: number, metres: number, agoMs: number) => {
      const device = a.service.authenticateDevice(race.participants[index]!.deviceToken)!;
      const [lon, lat] = race.course.path.pointAtRaceDistance(metres);
      expect((await a.service.ingestFix(device, { lon, lat, recordedAtMs: Date.now() - agoMs, accuracyM: 5 })).ok).toBe(true);
    };
    for (let k = 0; k < 4; k++) await send(0, 1000 + k * 20, (4 - k) * 5000);
    const first = (await a.service.takeDelta('street-10k', Date.now()))!;
    b.service.observeSequence('street-10k', first.delta.seq, first.delta);
    // The second runner moves in a delta B never hears (Pub/Sub lost it)…
    for (let k = 0; k < 4; k++) await send(1, 3000 + k * 20, (4 - k) * 5000);
    await a.service.takeDelta('street-10k', Date.now());
    const secondOnA = a.service.race('street-10k')!.tracker.runnerState('s-2')!.distanceAlongRaceM;
    expect(secondOnA).toBeGreaterThan(3000);
    // …and the first moves again in the next one, which B hears: a number skipped.
    await send(0, 1100, 0);
    const third = (await a.service.takeDelta('street-10k', Date.now()))!;
    expect(third.delta.entries.map((e) => e.runnerIndex)).toEqual([0]);
    b.service.observeSequence('street-10k', third.delta.seq, third.delta);
    await expect.poll(() => b.service.race('street-10k')!.tracker.runnerState('s-2')!.distanceAlongRaceM).toBe(secondOnA);
  });

  it('sends a move\'s leave when the organiser sends the move again after it could not be stored', async () => {
    const { a, b } = await twoProcesses();
    const log = a.service.stores.pingLog;
    const appendChange = log.appendChange.bind(log);
    let failLeave = true;
    log.appendChange = async (raceId, change, tag) => {
      if (failLeave && (change as { kind?: string }).kind === 'leave') {
        failLeave = false;
        throw new Error('Redis away');
      }
      return appendChange(raceId, change, tag);
    };
    const inRace = (service: RaceService, raceId: string) => service.race(raceId)!.tracker.hasParticipant('s-2');
    expect(await a.service.moveParticipant('s-2', 'track-10k', 'organiser')).toBe('unavailable');
    // Joined the new race, still in the old one: sent again, the leave goes.
    expect([inRace(a.service, 'track-10k'), inRace(a.service, 'street-10k')]).toEqual([true, true]);
    expect(await a.service.moveParticipant('s-2', 'track-10k', 'organiser')).toBe('moved');
    expect(inRace(a.service, 'street-10k')).toBe(false);
    await expect.poll(() => [inRace(b.service, 'track-10k'), inRace(b.service, 'street-10k')]).toEqual([true, false]);
  });
});
