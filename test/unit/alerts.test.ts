// Alerts for organisers, driven by a clock the test moves: a runner stopped, off course, silent,
// low on battery, on a reopened section; acknowledged and resolved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/protocol.ts';
import { startCoordinator, type Coordinator } from '../../server/cluster.ts';
import { ManualClock } from '../../server/core/clock.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { silentLogger } from '../../server/logger.ts';
import { createMemoryStores } from '../../server/ports/stores.ts';
import { RaceService, type DeviceIdentity } from '../../server/race-service.ts';
import { testEvent } from '../support/fixtures.ts';

const START = Date.UTC(2026, 10, 4, 5, 0);
let clock: ManualClock;
let event: LoadedEvent;
let service: RaceService;
let coordinator: Coordinator | null = null;
let received: Alert[];

/** A server's race service and what reads its log and writes its races, as `npm start` runs them. */
async function startService(): Promise<void> {
  await coordinator?.stop();
  const stores = createMemoryStores();
  service = await RaceService.create({ event, stores, clock, logger: silentLogger, defaultStartMs: START });
  const started = startCoordinator({ service, stores, logger: silentLogger });
  coordinator = started;
  await expect.poll(() => service.raceIds().every((raceId) => started.isWriter(raceId))).toBe(true);
  received = [];
  service.onAlert((alert) => received.push({ ...alert }));
}

beforeEach(async () => {
  clock = new ManualClock(START + 600_000);
  event = await testEvent(START);
  await startService();
});

afterEach(async () => {
  await coordinator?.stop();
  coordinator = null;
});

const device = (index: number): DeviceIdentity => service.authenticateDevice(event.races[0]!.participants[index]!.deviceToken)!;
const course = () => event.races[0]!.course;

async function fixAt(index: number, distanceM: number, extra: Record<string, number> = {}, awayM = 0): Promise<void> {
  const point = course().path.pointAtRaceDistance(distanceM);
  const [lon, lat] = course().path.ruler.offset(point, 0, awayM);
  const ack = await service.ingestFix(device(index), { lon, lat, recordedAtMs: clock.nowMs(), accuracyM: 5, ...extra });
  if (!ack.ok) throw new Error(ack.message);
}

const alertsOf = (kind: string) => service.recentAlerts().filter((a) => a.kind === kind);

describe('alerts', () => {
  it('raises "stopped" after five minutes standing on the course, and marks it inactive when the runner moves on', async () => {
    for (let m = 1500; m <= 1800; m += 15) {
      await fixAt(0, m, { speedMps: 3 });
      clock.advance(5000);
    }
    for (let i = 0; i < 70; i++) {
      await fixAt(0, 1805, { speedMps: 0 });
      clock.advance(5000);
      await service.evaluateAlerts();
    }
    expect(alertsOf('stopped')).toMatchObject([{ participantId: 's-1', state: 'open', active: true, distanceAlongRaceM: expect.any(Number) }]);
    for (let i = 0; i < 6; i++) {
      await fixAt(0, 1820 + i * 15, { speedMps: 3 });
      clock.advance(5000);
      await service.evaluateAlerts();
    }
    expect(alertsOf('stopped')).toMatchObject([{ state: 'open', active: false }]);
    expect(received.filter((a) => a.kind === 'stopped').map((a) => a.active)).toEqual([true, false]);
  });

  it('raises "offCourse" after two minutes away, "silent" after three without a fix, "batteryLow" at 15%', async () => {
    for (let m = 1500; m <= 1600; m += 15) {
      await fixAt(1, m, { batteryPct: 40 });
      await fixAt(2, m, { batteryPct: 14 });
      clock.advance(5000);
    }
    for (let i = 0; i < 30; i++) {
      await fixAt(1, 1610, {}, 300);
      clock.advance(5000);
    }
    await service.evaluateAlerts();
    expect(alertsOf('offCourse').map((a) => a.participantId)).toEqual(['s-2']);
    expect(alertsOf('batteryLow').map((a) => a.participantId)).toEqual(['s-3']);
    expect(alertsOf('silent')).toEqual([]); // s-3 has been quiet for 150 s
    clock.advance(40_000);
    await service.evaluateAlerts();
    expect(alertsOf('silent').map((a) => a.participantId)).toEqual(['s-3']);
  });

  it('resolves an off-course alert when the runner is back on the course', async () => {
    // Two and a half minutes 300 m off the course, then back on it, running on.
    for (let m = 1500; m <= 1600; m += 15) {
      await fixAt(1, m);
      clock.advance(5000);
    }
    for (let i = 0; i < 30; i++) {
      await fixAt(1, 1610, {}, 300);
      clock.advance(5000);
    }
    await service.evaluateAlerts();
    expect(alertsOf('offCourse')).toMatchObject([{ participantId: 's-2', state: 'open', active: true }]);
    for (let i = 0; i < 8; i++) {
      await fixAt(1, 1620 + i * 15);
      clock.advance(5000);
    }
    await service.evaluateAlerts();
    expect(alertsOf('offCourse')).toMatchObject([{ participantId: 's-2', state: 'resolved', active: false }]);
  });

  it('uses the thresholds a race sets in the event file', async () => {
    const json = (await import('../support/fixtures.ts')).testEventJson(START);
    (json.races[0] as Record<string, unknown>)['alerts'] = { batteryBelowPct: 50, silentAfterSec: 30 };
    const { parseEvent } = await import('../../server/event/event-file.ts');
    const { fileURLToPath } = await import('node:url');
    event = await parseEvent(json, { source: 'test', baseDir: fileURLToPath(new URL('../../server/demo/', import.meta.url)) });
    await startService();
    await fixAt(0, 500, { batteryPct: 45 });
    clock.advance(31_000);
    await service.evaluateAlerts();
    expect(alertsOf('batteryLow').map((a) => a.participantId)).toEqual(['s-1']);
    expect(alertsOf('silent').map((a) => a.participantId)).toEqual(['s-1']);
  });

  it('raises an alert for a runner on a reopened section', async () => {
    await fixAt(0, 500);
    await service.reopenSection('street-10k-km1', true); // forced: reopened with a runner still on it
    await service.evaluateAlerts();
    expect(alertsOf('onReopenedSection')).toMatchObject([{ participantId: 's-1', sectionId: 'street-10k-km1' }]);
  });

  it('is acknowledged, then resolved; a resolved condition that comes back is a new alert; an SOS repeated within a minute is one', async () => {
    await fixAt(0, 500, { batteryPct: 10 });
    await service.evaluateAlerts();
    const [low] = alertsOf('batteryLow');
    expect(await service.setAlertState(low!.alertId, 'acknowledged', 'organiser')).toMatchObject({ state: 'acknowledged' });
    await service.evaluateAlerts();
    expect(alertsOf('batteryLow')).toHaveLength(1);
    expect(await service.setAlertState(low!.alertId, 'resolved', 'organiser')).toMatchObject({ state: 'resolved' });
    await service.evaluateAlerts();
    expect(alertsOf('batteryLow').map((a) => a.state)).toEqual(['resolved', 'open']);
    expect(await service.setAlertState('nope', 'resolved', 'organiser')).toBeNull();
    const first = await service.raiseSos(device(0), { recordedAtMs: clock.nowMs() });
    expect(await service.raiseSos(device(0), { recordedAtMs: clock.nowMs() })).toEqual(first); // pressed twice: one call
    expect(alertsOf('sos')).toHaveLength(1);
    clock.advance(61_000);
    await service.raiseSos(device(0), { recordedAtMs: clock.nowMs() });
    expect(alertsOf('sos')).toHaveLength(2);
    expect(await service.setAlertState(low!.alertId, 'acknowledged', 'organiser')).toBe('resolved'); // closed for good
    expect(await service.raiseSos(device(0), { recordedAtMs: 'now' })).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' });
    expect((await service.audit()).map((e) => e.action)).toEqual(expect.arrayContaining(['alert acknowledged', 'alert resolved']));
  });
});
