// Crossing times through the real server: the race's timing points in its course, each runner's
// times in the deltas and the snapshot, a finish decided by silence on the server's own tick, and
// an organiser setting the lap a runner is on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus, type Ack, type Alert, type CourseGeometry, type RaceChangeNotice, type RaceSnapshot } from '../../shared/protocol.ts';
import { decodeDelta, type CrossingEntry } from '../../shared/wire.ts';
import { ManualClock } from '../../server/core/clock.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { PRIVATE_KEY, testEvent } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, startTestServer, type TestServer } from '../support/test-server.ts';

// The race started 45 minutes before the test's clock; the clock moves only when a test moves it.
const clock = new ManualClock(Date.now());
const STARTS_AT_MS = clock.nowMs() - 45 * 60_000;
let server: TestServer;
let event: LoadedEvent;
const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' };

beforeAll(async () => {
  event = await testEvent(STARTS_AT_MS);
  server = await startTestServer({ event, clock, tickMs: 50 });
});
afterAll(async () => {
  await server.close();
});

const get = async <T,>(path: string, headers: Record<string, string> = {}) => (await (await fetch(`${server.url}${path}`, { headers })).json()) as Ack<T>;
const post = async (path: string, body: unknown, headers: Record<string, string> = organiser) => {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Ack<unknown> };
};

/** Sends a runner's fixes at about 4 m/s, every 5 s from `fromM` to `toM`, the last one recorded now. */
async function runAlong(raceIndex: number, participantIndex: number, fromM: number, toM: number): Promise<number> {
  const race = event.races[raceIndex]!;
  const device = connectDevice(server.url, race.participants[participantIndex]!.deviceToken);
  await connected(device);
  const steps = Math.round((toM - fromM) / 20);
  const lastAtMs = clock.nowMs();
  for (let k = 0; k <= steps; k++) {
    const [lon, lat] = race.course.path.pointAtRaceDistance(fromM + ((toM - fromM) * k) / steps);
    const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck('position', {
      lon,
      lat,
      recordedAtMs: lastAtMs - (steps - k) * 5000,
      accuracyM: 5,
    });
    if (!ack.ok) throw new Error(ack.message);
  }
  device.disconnect();
  return lastAtMs;
}

const snapshotOf = async (raceId: string) => {
  const ack = await get<RaceSnapshot>(`/api/races/${raceId}/snapshot${raceId === 'loop-32k' ? `?key=${PRIVATE_KEY}` : ''}`);
  if (!ack.ok) throw new Error(ack.message);
  return ack.data;
};

describe('crossing times', () => {
  it('lists the race\'s timing points with its course, and sends each runner\'s time at them in the deltas and the snapshot', async () => {
    const course = await get<CourseGeometry>('/api/races/street-10k/course');
    expect(course.ok && course.data.timingPoints).toEqual([
      { name: '5 km', distanceAlongRaceM: 5000, kind: 'split' },
      { name: 'Finish', distanceAlongRaceM: 10_000, kind: 'finish' },
    ]);
    const watcher = connectSpectator(server.url);
    await connected(watcher);
    await watcher.emitWithAck('race:join', { raceId: 'street-10k' });
    const crossings: CrossingEntry[] = [];
    watcher.on('race:delta', (_raceId, bytes) => crossings.push(...decodeDelta(bytes).crossings));

    // From 4,800 m to 5,200 m at 4 m/s: at 5 km 150 s before the last fix.
    const lastAtMs = await runAlong(0, 0, 4800, 5200);
    const expectedSec = (lastAtMs - 50_000 - STARTS_AT_MS) / 1000;
    await expect.poll(() => crossings.length, { timeout: 10_000 }).toBe(1);
    expect(crossings[0]).toMatchObject({ runnerIndex: 0, pointIndex: 0 });
    expect(Math.abs(crossings[0]!.sinceStartMs! / 1000 - expectedSec)).toBeLessThan(2);
    const [sinceStartSec, sigmaSec] = (await snapshotOf('street-10k')).runners[0]!.crossings[0]!;
    expect(Math.abs(sinceStartSec - expectedSec)).toBeLessThan(2);
    expect(sigmaSec).toBeGreaterThan(0);
    expect(sigmaSec).toBeLessThan(5);
    watcher.disconnect();
  });
});

describe('a finish decided by silence', () => {
  it('finishes a runner whose phone stopped at the line, on the server\'s tick, and raises no silence alert for them', async () => {
    // Runner 2 runs into the line and the phone stops 8 m before it; runner 3 stops sending at 6 km.
    const lastAtMs = await runAlong(0, 1, 9800, 9992);
    await runAlong(0, 2, 5800, 6000);
    expect((await snapshotOf('street-10k')).runners[1]!.status).toBe(RunnerStatus.onCourse);
    // A phone that reported every 5 s and is silent for a minute and a half has stopped.
    clock.advance(90_000);
    await expect.poll(async () => (await snapshotOf('street-10k')).runners[1]!.status, { timeout: 10_000 }).toBe(RunnerStatus.finished);
    const snapshot = await snapshotOf('street-10k');
    // 8 m at 4 m/s after the last fix.
    const finishSec = snapshot.runners[1]!.crossings.at(-1)![0];
    expect(Math.abs(finishSec - (lastAtMs + 2000 - STARTS_AT_MS) / 1000)).toBeLessThan(1.5);
    // (Both to the tenth of a second, one since the start, one since the epoch.)
    expect(Math.abs(snapshot.runners[1]!.finishedAtMs! - (STARTS_AT_MS + finishSec * 1000))).toBeLessThanOrEqual(100);
    // The same tick looked at runner 3, silent mid-race: still on the course.
    expect(snapshot.runners[2]!.status).toBe(RunnerStatus.onCourse);
    const alerts = await get<{ alerts: Alert[] }>('/api/organiser/alerts', organiser);
    if (!alerts.ok) throw new Error(alerts.message);
    expect(alerts.data.alerts.filter((a) => a.participantId === 's-2' && a.active)).toEqual([]);
  });
});

describe('an organiser setting the lap', () => {
  it('moves a runner first seen mid-race to the lap they are on, tells the race room, and records who did it', async () => {
    const room = connectSpectator(server.url, { organiserToken: TEST_ORGANISER_TOKEN });
    await connected(room);
    await room.emitWithAck('race:join', { raceId: 'loop-32k' });
    const notices: RaceChangeNotice[] = [];
    room.on('race:changed', (notice) => notices.push(notice));

    // Seen first 45 minutes in, 200 m into a lap: the engine can only put them on the lowest lap.
    await runAlong(2, 0, 200, 300);
    expect((await snapshotOf('loop-32k')).runners[0]!.lap).toBe(1);
    expect(await post('/api/organiser/participants/p-1/lap', { lap: 13 })).toMatchObject({ status: 200, body: { ok: true } });
    const runner = (await snapshotOf('loop-32k')).runners[0]!;
    expect(runner.lap).toBe(13);
    expect(runner.distanceAlongRaceM).toBeCloseTo(12 * 700 + 300, -1);
    // Twelve lap lines passed, with no time known for them.
    expect(runner.crossings).toEqual(Array.from({ length: 12 }, () => null));
    await expect.poll(() => notices).toContainEqual({ raceId: 'loop-32k', what: 'laps' });
    const audit = await get<{ entries: Array<{ action: string; by: string; details: Record<string, unknown> }> }>('/api/organiser/audit', organiser);
    expect(audit.ok && audit.data.entries.find((e) => e.action === 'lap set')).toMatchObject({
      by: 'organiser',
      details: { raceId: 'loop-32k', participantId: 'p-1', lap: 13 },
    });
    room.disconnect();
  });

  it('refuses a lap the race does not have, a street runner, a runner not on the course, nobody, and no token, each with its code', async () => {
    const cases: Array<[string, unknown, Record<string, string>, number, string, RegExp]> = [
      ['p-1', { lap: 0 }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /lap/],
      ['p-1', { lap: 'seven' }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /lap/],
      ['p-1', { lap: 3, extra: true }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /extra/],
      ['p-1', { lap: 47 }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /no such lap/],
      ['s-1', { lap: 2 }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /street race/],
      ['p-2', { lap: 2 }, organiser, 400, ErrorCodes.MALFORMED_REQUEST, /not on the course/],
      ['nobody', { lap: 2 }, organiser, 404, ErrorCodes.UNKNOWN_PARTICIPANT, /no such participant/],
      ['p-1', { lap: 2 }, { 'content-type': 'application/json' }, 401, ErrorCodes.UNAUTHORIZED, /./],
    ];
    const before = (await snapshotOf('loop-32k')).runners;
    for (const [participantId, body, headers, status, code, message] of cases) {
      const result = await post(`/api/organiser/participants/${participantId}/lap`, body, headers);
      expect(result, `${participantId} ${JSON.stringify(body)}`).toMatchObject({ status, body: { ok: false, code } });
      expect(!result.body.ok && result.body.message).toMatch(message);
    }
    expect((await snapshotOf('loop-32k')).runners).toEqual(before);
  });
});
