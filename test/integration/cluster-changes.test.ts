// What organisers change while the event runs, with two real server processes on the real Redis:
// alerts acknowledged and resolved, courses replaced, participants moved, races created and
// renamed, laps set, and the audit of them all. Each change is made through process A, seen on B within a tick, and still
// there after both are killed and one is started again.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, redis, removeRedisKeys } from '../support/requirements.ts';
import { startServerProcess, writeEventFile, type ServerProcess } from '../../simulations/server-process.ts';
import { addedTrackRace, testDeviceToken, testEvent, testEventJson } from '../support/fixtures.ts';
import { runAlong } from '../support/run-along.ts';
import { TEST_ORGANISER_TOKEN, connectSpectator, connected } from '../support/test-server.ts';
import type { Alert } from '../../shared/protocol.ts';

const { available } = await redis();
const startsAtMs = Date.now() - 10 * 60_000;
const eventFile = writeEventFile(testEventJson(startsAtMs));
const processes: ServerProcess[] = [];
const sockets: Array<{ disconnect(): void }> = [];
const prefix = `test:${randomBytes(6).toString('hex')}`;
const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` };

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await Promise.all(processes.map((p) => p.kill()));
  if (available) await removeRedisKeys(prefix);
});

/** A process of the event on its own key prefix per test, so each test stands alone. */
async function start(suffix: string): Promise<ServerProcess> {
  const server = await startServerProcess(eventFile, {
    REDIS_URL,
    REDIS_PREFIX: `${prefix}:${suffix}`,
    ORGANISER_TOKEN: TEST_ORGANISER_TOKEN,
    LINK_SECRET: 'cluster-changes-link-secret-0123456789abcdef',
    TICK_MS: '200',
  });
  processes.push(server);
  return server;
}

async function json<T>(server: ServerProcess, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, { ...init, headers: { ...organiser, ...(init.headers ?? {}) } });
  return { status: response.status, body: (await response.json()) as T };
}

type Listed<K extends string, T> = { data: Record<K, T[]> };
interface AlertView {
  alertId: string;
  kind: string;
  state: string;
  participantId: string;
}
const alertsOn = async (server: ServerProcess) => (await json<Listed<'alerts', AlertView>>(server, '/api/organiser/alerts')).body.data.alerts;
const auditOn = async (server: ServerProcess) =>
  (await json<Listed<'entries', { action: string; details: Record<string, unknown> }>>(server, '/api/organiser/audit')).body.data.entries;
const courseOn = async (server: ServerProcess, raceId: string) =>
  (await json<{ ok: boolean; data: { courseKind: string; lapLengthM: number; raceDistanceM: number; lapCoordinates: Array<[number, number]> } }>(server, `/api/races/${raceId}/course`)).body.data;

describe.skipIf(!available)('organisers\' changes on two processes sharing Redis', () => {
  it('an alert raised by the race\'s writer is listed on both under one id; acknowledged through one and resolved through the other, on both and after a restart; audited once each', async () => {
    const a = await start('alerts');
    const b = await start('alerts');
    // A low battery, sent to B as the runner sets off: the race's writer (whichever it is) raises the alert.
    // An organiser's console connected to each: each hears every change once.
    const heard = { a: [] as Alert[], b: [] as Alert[] };
    for (const [name, server] of [['a', a], ['b', b]] as const) {
      const consoleSocket = connectSpectator(server.url, { organiserToken: TEST_ORGANISER_TOKEN });
      consoleSocket.on('alert', (x: Alert) => heard[name].push(x));
      await connected(consoleSocket);
      sockets.push(consoleSocket);
    }
    const street = (await testEvent(startsAtMs)).races[0]!;
    await runAlong(b.url, street, 0, 500, 700, Date.now() - 5_000);
    const [lon, lat] = street.course.path.pointAtRaceDistance(720);
    const sent = await fetch(`${b.url}/ingest/osmand?id=${testDeviceToken('s-1')}&lat=${lat}&lon=${lon}&timestamp=${Date.now()}&accuracy=5&batt=9`);
    expect(sent.status).toBe(200);
    const lowOn = async (server: ServerProcess) => (await alertsOn(server)).filter((x) => x.kind === 'batteryLow' && x.participantId === 's-1');
    await expect.poll(async () => (await lowOn(a)).length, { timeout: 5_000 }).toBe(1);
    await expect.poll(async () => (await lowOn(b)).map((x) => x.alertId), { timeout: 5_000 }).toEqual((await lowOn(a)).map((x) => x.alertId));
    const [alert] = await lowOn(a);

    // Acknowledged through B: acknowledged on A. Resolved through A: resolved on B.
    expect((await json(b, `/api/organiser/alerts/${alert!.alertId}/acknowledge`, { method: 'POST' })).status).toBe(200);
    await expect.poll(async () => (await lowOn(a))[0]?.state, { timeout: 5_000 }).toBe('acknowledged');
    expect((await json(a, `/api/organiser/alerts/${alert!.alertId}/resolve`, { method: 'POST' })).status).toBe(200);
    await expect.poll(async () => (await lowOn(b)).find((x) => x.alertId === alert!.alertId)?.state, { timeout: 5_000 }).toBe('resolved');
    // Resolved is closed for good, whichever process is asked.
    expect((await json(b, `/api/organiser/alerts/${alert!.alertId}/acknowledge`, { method: 'POST' })).status).toBe(409);

    const told = (list: Alert[]) => list.filter((x) => x.alertId === alert!.alertId).map((x) => x.state);
    await expect.poll(() => told(heard.a), { timeout: 5_000 }).toEqual(['open', 'acknowledged', 'resolved']);
    await expect.poll(() => told(heard.b), { timeout: 5_000 }).toEqual(['open', 'acknowledged', 'resolved']);

    await Promise.all([a.kill(), b.kill()]);
    const again = await start('alerts');
    expect((await alertsOn(again)).find((x) => x.alertId === alert!.alertId)).toMatchObject({ kind: 'batteryLow', state: 'resolved' });
    const actions = (await auditOn(again)).filter((e) => e.details['alertId'] === alert!.alertId).map((e) => e.action);
    expect(actions).toEqual(['alert acknowledged', 'alert resolved']);
  });

  it('a course replaced through one process is the race\'s course on the other, and after a restart', async () => {
    const a = await start('course');
    const b = await start('course');
    // The 700 m park loop's line put on the private loop race with a different lap (a course change on the day).
    const before = await courseOn(b, 'track-10k');
    expect(before.courseKind).toBe('track');
    const centre = { lat: 35.73, lon: 51.28 };
    const replaced = await json(a, '/api/organiser/races/track-10k/course', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'track', centre, homeStraightBearingDeg: 90, lane: 2 }),
    });
    expect(replaced.status).toBe(200);
    const onA = await courseOn(a, 'track-10k');
    expect(onA.lapCoordinates[0]).not.toEqual(before.lapCoordinates[0]);
    await expect.poll(async () => (await courseOn(b, 'track-10k')).lapCoordinates, { timeout: 5_000 }).toEqual(onA.lapCoordinates);
    expect((await courseOn(b, 'track-10k')).lapLengthM).toBeCloseTo(onA.lapLengthM, 6);

    await Promise.all([a.kill(), b.kill()]);
    const again = await start('course');
    expect((await courseOn(again, 'track-10k')).lapCoordinates).toEqual(onA.lapCoordinates);
    expect((await auditOn(again)).filter((e) => e.action === 'course replaced')).toHaveLength(1);
  });

  it('a participant moved through one process is in the new race on the other, and after a restart; their device speaks for the new race', async () => {
    const a = await start('move');
    const b = await start('move');
    const raceOf = async (server: ServerProcess) =>
      (await json<Listed<'devices', { participantId: string; raceId: string }>>(server, '/api/organiser/devices')).body.data.devices.find((d) => d.participantId === 's-3')?.raceId;
    const counts = async (server: ServerProcess) => {
      const { races } = (await json<{ data: { races: Array<{ raceId: string; participantCount: number }> } }>(server, '/api/races')).body.data;
      return Object.fromEntries(races.map((r) => [r.raceId, r.participantCount]));
    };
    expect(await raceOf(b)).toBe('street-10k');
    const moved = await json(a, '/api/organiser/participants/s-3/move', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ raceId: 'track-10k' }) });
    expect(moved.status).toBe(200);
    await expect.poll(() => raceOf(b), { timeout: 5_000 }).toBe('track-10k');
    await expect.poll(() => counts(b), { timeout: 5_000 }).toMatchObject({ 'street-10k': 2, 'track-10k': 4 });
    // The phone's fix, sent to B, places the runner on the track.
    const [lon, lat] = (await courseOn(b, 'track-10k')).lapCoordinates[30]!;
    const fix = await fetch(`${b.url}/ingest/osmand?id=${testDeviceToken('s-3')}&lat=${lat}&lon=${lon}&timestamp=${Date.now()}&accuracy=5`);
    expect(fix.status).toBe(200);

    await Promise.all([a.kill(), b.kill()]);
    const again = await start('move');
    expect(await raceOf(again)).toBe('track-10k');
    expect(await counts(again)).toMatchObject({ 'street-10k': 2, 'track-10k': 4 });
    const snapshot = (await json<{ data: { runners: Array<{ participantId: string }> } }>(again, '/api/races/track-10k/snapshot')).body.data;
    expect(snapshot.runners.map((r) => r.participantId)).toEqual(['t-1', 't-2', 't-3', 's-3']);
    expect((await auditOn(again)).filter((e) => e.action === 'participant moved')).toHaveLength(1);
  });

  it('a race created through one process is served by the other within a second, and after a restart; its runner\'s phone works on both', async () => {
    const a = await start('create');
    const b = await start('create');
    // One with a token, one without: hers is derived from the event's secret, the same on every process.
    const race = addedTrackRace([
      { id: 'w-1', bib: 'W1', name: 'Added runner', deviceToken: 'token-added-runner-0123456789' },
      { id: 'w-2', bib: 'W2', name: 'Added runner two' },
    ]);
    const created = await json(a, '/api/organiser/races', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(race) });
    expect(created.status).toBe(201);
    const listed = async (server: ServerProcess) => (await json<{ data: { races: Array<{ raceId: string }> } }>(server, '/api/races')).body.data.races.map((r) => r.raceId);
    await expect.poll(() => listed(b), { timeout: 2_000 }).toContain('women-5k-added');
    const tokenOf = async (server: ServerProcess) =>
      (await json<Listed<'devices', { participantId: string; deviceToken: string | null }>>(server, '/api/organiser/devices')).body.data.devices.find((d) => d.participantId === 'w-2')?.deviceToken;
    const derived = await tokenOf(a);
    expect(derived).toMatch(/^\S{16,}$/);
    expect(await tokenOf(b)).toBe(derived);
    // The same id again, through B: refused.
    expect((await json(b, '/api/organiser/races', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(race) })).status).toBe(400);
    const [lon, lat] = (await courseOn(b, 'women-5k-added')).lapCoordinates[10]!;
    for (const [server, token] of [
      [b, 'token-added-runner-0123456789'],
      [a, derived!],
    ] as const) {
      const fix = await fetch(`${server.url}/ingest/osmand?id=${token}&lat=${lat}&lon=${lon}&timestamp=${Date.now()}&accuracy=5`);
      expect(fix.status).toBe(200);
    }

    await Promise.all([a.kill(), b.kill()]);
    const again = await start('create');
    expect(await listed(again)).toContain('women-5k-added');
    expect(await tokenOf(again)).toBe(derived);
    const snapshot = (await json<{ data: { runners: Array<{ participantId: string; status: number }> } }>(again, '/api/races/women-5k-added/snapshot')).body.data;
    expect(snapshot.runners.map((r) => r.participantId)).toEqual(['w-1', 'w-2']);
    expect((await auditOn(again)).filter((e) => e.action === 'race created')).toHaveLength(1);
  });

  it('a race renamed and a runner\'s lap set through one process hold on the other and after a restart; audited once each', async () => {
    const a = await start('rename-lap');
    const b = await start('rename-lap');
    const nameOn = async (server: ServerProcess) => (await json<{ data: { name: string } }>(server, '/api/races/track-10k')).body.data.name;
    const renamed = await json(a, '/api/organiser/races/track-10k', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Women 10 km, Azadi track' }),
    });
    expect(renamed.status).toBe(200);
    await expect.poll(() => nameOn(b), { timeout: 5_000 }).toBe('Women 10 km, Azadi track');

    // A runner first seen on the track is on their first lap until shown otherwise; the organiser,
    // through A, says she is on her third. B shows it, and so does a process started afterwards.
    const [lon, lat] = (await courseOn(b, 'track-10k')).lapCoordinates[20]!;
    const fix = await fetch(`${b.url}/ingest/osmand?id=${testDeviceToken('t-1')}&lat=${lat}&lon=${lon}&timestamp=${Date.now()}&accuracy=5`);
    expect(fix.status).toBe(200);
    const lapOn = async (server: ServerProcess) =>
      (await json<{ data: { runners: Array<{ participantId: string; lap: number }> } }>(server, '/api/races/track-10k/snapshot')).body.data.runners.find((r) => r.participantId === 't-1')?.lap;
    await expect.poll(() => lapOn(a), { timeout: 5_000 }).toBe(1);
    const set = await json(a, '/api/organiser/participants/t-1/lap', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lap: 3 }) });
    expect(set.status).toBe(200);
    await expect.poll(() => lapOn(b), { timeout: 5_000 }).toBe(3);

    await Promise.all([a.kill(), b.kill()]);
    const again = await start('rename-lap');
    expect(await nameOn(again)).toBe('Women 10 km, Azadi track');
    expect(await lapOn(again)).toBe(3);
    const audit = await auditOn(again);
    expect(audit.filter((e) => e.action === 'race renamed')).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'lap set' && e.details['participantId'] === 't-1').map((e) => e.details['lap'])).toEqual([3]);
  });
});

describe.skipIf(!available)('the work split between two processes sharing Redis', () => {
  it('applies each fix once, on the race\'s writer, whichever process took it; both serve the runners where the writer has them', async () => {
    const a = await start('split');
    const b = await start('split');
    const counter = async (server: ServerProcess, name: string) => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: organiser })).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    // Three runners of the street race, their fixes dealt to A and B in turn (as a load balancer would).
    const street = (await testEvent(startsAtMs)).races[0]!;
    let sent = 0;
    for (let step = 0; step < 8; step++) {
      for (const [index, participant] of street.participants.entries()) {
        const [lon, lat] = street.course.path.pointAtRaceDistance(1000 + index * 300 + step * 20);
        const server = sent % 2 === 0 ? a : b;
        const response = await fetch(`${server.url}/ingest/osmand?id=${participant.deviceToken}&lat=${lat}&lon=${lon}&timestamp=${Date.now() - (8 - step) * 5_000}&accuracy=5`);
        expect(response.status).toBe(200);
        sent += 1;
      }
    }
    const total = async (name: string) => (await counter(a, name)) + (await counter(b, name));
    expect(await total('racetrack_fixes_stored_total')).toBe(sent);
    await expect.poll(() => total('racetrack_fixes_applied_total'), { timeout: 5_000 }).toBe(sent);
    // Applied by one of them only: the race's writer.
    expect([await counter(a, 'racetrack_fixes_applied_total'), await counter(b, 'racetrack_fixes_applied_total')].sort()).toEqual([0, sent]);
    // Both show every runner where the writer has them (the other through the writer's deltas).
    const runnersOn = async (server: ServerProcess) =>
      (await json<{ data: { runners: Array<{ participantId: string; distanceAlongRaceM: number; status: number }> } }>(server, '/api/races/street-10k/snapshot')).body.data.runners;
    await expect.poll(async () => (await runnersOn(a)).map((r) => r.distanceAlongRaceM > 1000), { timeout: 5_000 }).toEqual([true, true, true]);
    await expect.poll(async () => JSON.stringify(await runnersOn(b)), { timeout: 5_000 }).toBe(JSON.stringify(await runnersOn(a)));
  });
});
