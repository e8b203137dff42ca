// The real server on a real port with real socket.io-client connections: rooms per race, private
// races, bad pings and the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus, type Ack, type PositionAccepted, type RaceSnapshot } from '../../shared/protocol.ts';
import { decodeDelta, type RaceDelta } from '../../shared/wire.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { PRIVATE_KEY, testEvent } from '../support/fixtures.ts';
import {
  TEST_ORGANISER_TOKEN,
  connectDevice,
  connectSpectator,
  connected,
  startTestServer,
  type DeviceSocket,
  type SpectatorSocket,
  type TestServer,
  deliveredTo,
  until,
} from '../support/test-server.ts';

let server: TestServer;
let event: LoadedEvent;
const sockets: Array<{ disconnect(): unknown }> = [];
const startsAtMs = Date.now() - 10 * 60_000;

beforeAll(async () => {
  event = await testEvent(startsAtMs);
  server = await startTestServer({ event });
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
});

function tokenOf(raceId: string, index = 0): string {
  const race = event.races.find((r) => r.raceId === raceId)!;
  return race.participants[index]!.deviceToken;
}

async function device(raceId: string, index = 0): Promise<DeviceSocket> {
  const socket = connectDevice(server.url, tokenOf(raceId, index));
  sockets.push(socket);
  await connected(socket);
  return socket;
}

async function spectator(auth: { organiserToken?: string } = {}): Promise<SpectatorSocket> {
  const socket = connectSpectator(server.url, auth);
  sockets.push(socket);
  await connected(socket);
  return socket;
}

function join(socket: SpectatorSocket, raceId: string, key?: string): Promise<Ack<RaceSnapshot>> {
  return socket.emitWithAck('race:join', key === undefined ? { raceId } : { raceId, key });
}

function send(socket: DeviceSocket, fix: unknown): Promise<Ack<PositionAccepted>> {
  return (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<PositionAccepted>> }).emitWithAck('position', fix);
}

/** A fix on the race's course at a distance along it, recorded `agoMs` before now. */
function fixAt(raceId: string, distanceM: number, agoMs = 0) {
  const race = event.races.find((r) => r.raceId === raceId)!;
  const { course } = race;
  const [lon, lat] = course.path.pointAtRaceDistance(distanceM);
  return { lat, lon, recordedAtMs: Date.now() - agoMs, accuracyM: 5 };
}

function collectDeltas(socket: SpectatorSocket): Array<{ raceId: string; delta: RaceDelta }> {
  const received: Array<{ raceId: string; delta: RaceDelta }> = [];
  socket.on('race:delta', (raceId, bytes) => received.push({ raceId, delta: decodeDelta(bytes) }));
  return received;
}


async function httpJson(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Ack<unknown> & { data?: never } };
}

describe('rooms per race', () => {
  it("delivers a runner's position to spectators of their race and not to another race's", async () => {
    const streetWatcher = await spectator();
    const trackWatcher = await spectator();
    const streetJoin = await join(streetWatcher, 'street-10k');
    const trackJoin = await join(trackWatcher, 'track-10k');
    expect(streetJoin.ok && trackJoin.ok).toBe(true);
    const streetDeltas = collectDeltas(streetWatcher);
    const trackDeltas = collectDeltas(trackWatcher);

    const runner = await device('street-10k', 0);
    const ack = await send(runner, fixAt('street-10k', 120, 60_000));
    expect(ack).toMatchObject({ ok: true, data: { applied: true, status: RunnerStatus.onCourse } });
    if (!ack.ok) throw new Error('not accepted');
    expect(ack.data.distanceAlongRaceM).toBeGreaterThan(100);
    expect(ack.data.distanceAlongRaceM).toBeLessThan(140);

    await until(() => streetDeltas.length > 0);
    const { raceId, delta } = streetDeltas[0]!;
    expect(raceId).toBe('street-10k');
    expect(streetJoin.ok && delta.seq).toBe(streetJoin.ok ? streetJoin.data.seq + 1 : -1);
    expect(delta.entries).toEqual([{ runnerIndex: 0, distanceAlongRaceM: ack.data.distanceAlongRaceM, status: RunnerStatus.onCourse }]);

    // Every delta sent, and the track room's connection caught up: nothing of the street race.
    await deliveredTo(server, trackWatcher);
    expect(trackDeltas).toEqual([]);
  });

  it('sends one delta per tick with consecutive sequence numbers however many pings arrive', async () => {
    const watcher = await spectator();
    const joined = await join(watcher, 'track-10k');
    if (!joined.ok) throw new Error(joined.message);
    const deltas = collectDeltas(watcher);
    const runners = await Promise.all([device('track-10k', 0), device('track-10k', 1), device('track-10k', 2)]);
    for (let k = 0; k < 5; k++) {
      await Promise.all(runners.map((r, i) => send(r, fixAt('track-10k', 20 + 30 * k + i, 50_000 - k * 5000))));
    }
    await until(() => deltas.some((d) => d.delta.entries.length === 3 || d.delta.entries.some((e) => e.runnerIndex === 2)));
    await deliveredTo(server, watcher);
    const seqs = deltas.map((d) => d.delta.seq);
    expect(seqs[0]).toBe(joined.data.seq + 1);
    seqs.forEach((s, i) => expect(s).toBe(seqs[0]! + i));
    // 15 pings, far fewer deltas: they are batched per tick.
    expect(deltas.length).toBeLessThan(15);
    const snapshot = await httpJson('/api/races/track-10k/snapshot');
    expect((snapshot.body.data as unknown as RaceSnapshot).seq).toBe(seqs[seqs.length - 1]);
  });
});

describe('private races', () => {
  it('refuses a spectator without the key, over Socket.IO and HTTP, as if the race did not exist', async () => {
    const stranger = await spectator();
    expect(await join(stranger, 'loop-32k')).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });
    expect(await join(stranger, 'loop-32k', 'wrong-key-wrong-key')).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });
    expect(await join(stranger, 'no-such-race')).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });
    for (const path of ['/api/races/loop-32k/snapshot', '/api/races/loop-32k/course', '/api/races/loop-32k']) {
      const { status, body } = await httpJson(path);
      expect(status).toBe(404);
      expect(body).toMatchObject({ ok: false, code: ErrorCodes.UNKNOWN_RACE });
    }
    const listed = await httpJson('/api/races');
    const ids = (listed.body.data as unknown as { races: Array<{ raceId: string }> }).races.map((r) => r.raceId);
    expect(ids).toEqual(['street-10k', 'track-10k']);
  });

  it('admits a spectator with the key and an organiser without one, and delivers its deltas only to them', async () => {
    const outsider = await spectator();
    await join(outsider, 'street-10k');
    const outsiderDeltas = collectDeltas(outsider);
    const friend = await spectator();
    const joined = await join(friend, 'loop-32k', PRIVATE_KEY);
    expect(joined).toMatchObject({ ok: true, data: { raceId: 'loop-32k' } });
    const friendDeltas = collectDeltas(friend);
    const organiser = await spectator({ organiserToken: TEST_ORGANISER_TOKEN });
    expect(await join(organiser, 'loop-32k')).toMatchObject({ ok: true });

    const runner = await device('loop-32k', 0);
    expect(await send(runner, fixAt('loop-32k', 50, 30_000))).toMatchObject({ ok: true });
    await until(() => friendDeltas.length > 0);
    await deliveredTo(server, outsider);
    expect(outsiderDeltas.filter((d) => d.raceId === 'loop-32k')).toEqual([]);

    const byKey = await httpJson('/api/races/loop-32k/snapshot', { 'x-race-key': PRIVATE_KEY });
    expect(byKey.status).toBe(200);
    const byQuery = await httpJson(`/api/races/loop-32k/snapshot?key=${PRIVATE_KEY}`);
    expect(byQuery.status).toBe(200);
    const listed = await httpJson('/api/races', { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` });
    expect((listed.body.data as unknown as { races: unknown[] }).races).toHaveLength(3);
  });

  it('refuses a wrong organiser token at connection', async () => {
    const socket = connectSpectator(server.url, { organiserToken: 'not-the-token-at-all' });
    sockets.push(socket);
    await expect(connected(socket)).rejects.toMatchObject({ data: { code: ErrorCodes.UNAUTHORIZED } });
  });
});

describe('bad input from devices', () => {
  it('refuses an unknown device token at connection', async () => {
    for (const auth of [{ deviceToken: 'no-such-device-token' }, {}, { deviceToken: 42 }]) {
      const socket = connectDevice(server.url, '');
      (socket.auth as Record<string, unknown>) = auth;
      sockets.push(socket);
      await expect(connected(socket)).rejects.toMatchObject({ data: { code: ErrorCodes.UNKNOWN_DEVICE } });
    }
  });

  it('answers each kind of bad fix with its code, changes nothing, and keeps serving', async () => {
    const runner = await device('street-10k', 1);
    const before = await httpJson('/api/races/street-10k/snapshot');
    const loggedBefore = await server.stores.pingLog.count('street-10k');
    const good = fixAt('street-10k', 80, 40_000);
    const cases: Array<[unknown, string]> = [
      ['not an object', ErrorCodes.MALFORMED_FIX],
      [null, ErrorCodes.MALFORMED_FIX],
      [[good.lat, good.lon], ErrorCodes.MALFORMED_FIX],
      [{ lon: good.lon, recordedAtMs: good.recordedAtMs }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, lat: String(good.lat) }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, lat: Number.NaN }, ErrorCodes.MALFORMED_FIX], // JSON turns NaN into null
      [{ ...good, accuracyM: -3 }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, batteryPct: 140 }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, colour: 'red' }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, recordedAtMs: Math.round(good.recordedAtMs / 1000) }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, recordedAtMs: good.recordedAtMs + 0.5 }, ErrorCodes.MALFORMED_FIX],
      [{ ...good, lat: 91 }, ErrorCodes.COORDINATES_OUT_OF_RANGE],
      [{ ...good, lon: -180.5 }, ErrorCodes.COORDINATES_OUT_OF_RANGE],
      [{ ...good, recordedAtMs: Date.now() + 3_600_000 }, ErrorCodes.FIX_FROM_FUTURE],
    ];
    for (const [fix, code] of cases) {
      const ack = await send(runner, fix);
      expect(ack, JSON.stringify(fix)).toMatchObject({ ok: false, code });
      if (!ack.ok) expect(ack.message.length).toBeGreaterThan(5);
    }
    const after = await httpJson('/api/races/street-10k/snapshot');
    const runnerOf = (s: typeof before) => (s.body.data as unknown as RaceSnapshot).runners[1];
    expect(runnerOf(after)).toEqual(runnerOf(before));
    expect(await server.stores.pingLog.count('street-10k')).toBe(loggedBefore);

    // The same socket still works.
    expect(await send(runner, good)).toMatchObject({ ok: true, data: { applied: true } });
  });

  it('drops a connection that sends an oversized message and keeps serving others', async () => {
    const runner = await device('street-10k', 2);
    const disconnected = new Promise<string>((resolve) => runner.once('disconnect', (reason) => resolve(reason)));
    runner.emit('position', { lat: 1, lon: 1, recordedAtMs: Date.now(), padding: 'x'.repeat(200_000) } as never, () => {});
    expect(await disconnected).toBe('transport close');
    const other = await device('street-10k', 0);
    expect(await send(other, fixAt('street-10k', 400, 1000))).toMatchObject({ ok: true });
  });

  it('stores a fix older than the last one without moving the runner back', async () => {
    const runner = await device('track-10k', 0);
    const ahead = await send(runner, fixAt('track-10k', 1000, 1_000));
    expect(ahead).toMatchObject({ ok: true, data: { applied: true } });
    const olderFix = fixAt('track-10k', 500, 20_000);
    const older = await send(runner, olderFix);
    expect(older).toMatchObject({ ok: true, data: { applied: false } });
    if (!ahead.ok || !older.ok) throw new Error('refused');
    expect(older.data.distanceAlongRaceM).toBe(ahead.data.distanceAlongRaceM);
    const logged = await server.stores.pingLog.read('track-10k');
    expect(logged.filter((p) => p.participantId === 't-1' && p.fix.recordedAtMs === olderFix.recordedAtMs)).toHaveLength(1);
  });

  it('answers malformed spectator requests with a code', async () => {
    const watcher = await spectator();
    expect(await watcher.emitWithAck('race:join', { raceId: 42 } as never)).toMatchObject({
      ok: false,
      code: ErrorCodes.MALFORMED_REQUEST,
    });
    expect(await watcher.emitWithAck('race:join', 'street-10k' as never)).toMatchObject({
      ok: false,
      code: ErrorCodes.MALFORMED_REQUEST,
    });
    // An object posing as a string (found by the fuzz suite: the validator threw, no answer came).
    const posing = { length: { toString: 1 } };
    for (const [event, payload] of [
      ['race:join', { raceId: posing }],
      ['race:leave', { raceId: posing }],
      ['follow:join', { link: posing }],
    ] as const) {
      expect(await watcher.emitWithAck(event as 'race:join', payload as never), event).toMatchObject({ ok: false, code: ErrorCodes.MALFORMED_REQUEST });
    }
    const patched = await fetch(`${server.url}/api/organiser/races/street-10k`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: posing }),
    });
    expect(patched.status).toBe(400);
    const ingest = await fetch(`${server.url}/ingest/osmand`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: posing, location: {} }) });
    expect(ingest.status).toBe(400);
    expect(await join(watcher, 'street-10k')).toMatchObject({ ok: true });
  });
});

describe('HTTP', () => {
  it('reports health, lists races, and serves course and snapshot', async () => {
    expect(await httpJson('/healthz')).toMatchObject({ status: 200, body: { ok: true, data: { status: 'ready' } } });
    const course = await httpJson('/api/races/track-10k/course');
    expect(course.body).toMatchObject({ ok: true, data: { courseKind: 'track', lapLengthM: expect.closeTo(400, 2), raceDistanceM: 10000 } });
    const snapshot = await httpJson('/api/races/street-10k/snapshot');
    const runner = (snapshot.body.data as unknown as RaceSnapshot).runners[0]!;
    expect(Object.keys(runner).sort()).toEqual(
      ['bib', 'crossings', 'distanceAlongRaceM', 'finishedAtMs', 'lap', 'lat', 'lon', 'name', 'participantId', 'runnerIndex', 'status'].sort(),
    );
  });

  it('tells organisers the state of each road section, and lets them reopen one', async () => {
    const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` };
    expect((await httpJson('/api/organiser/sections')).status).toBe(401);
    const { body } = await httpJson('/api/organiser/sections', organiser);
    const sections = (body.data as unknown as { sections: Array<{ sectionId: string; state: string; runnersToPass: number }> }).sections;
    // The test event defines none: the street race is split per kilometre.
    expect(sections.map((s) => s.sectionId)).toEqual(Array.from({ length: 10 }, (_, i) => `street-10k-km${i + 1}`));
    expect(sections[9]).toMatchObject({ state: expect.stringMatching(/^(waiting|inUse)$/), runnersToPass: 3 });
    // Not ready: refused, unless the organiser insists.
    const refused = await fetch(`${server.url}/api/organiser/sections/street-10k-km10/reopen`, { method: 'POST', headers: organiser });
    expect(refused.status).toBe(409);
    const reopen = await fetch(`${server.url}/api/organiser/sections/street-10k-km10/reopen?force=true`, { method: 'POST', headers: organiser });
    expect(reopen.status).toBe(200);
    const after = (await httpJson('/api/organiser/sections', organiser)).body.data as unknown as { sections: Array<{ sectionId: string; state: string }> };
    expect(after.sections.find((s) => s.sectionId === 'street-10k-km10')!.state).toBe('reopened');
    expect((await fetch(`${server.url}/api/organiser/sections/nope/reopen`, { method: 'POST', headers: organiser })).status).toBe(404);
  });

  it('answers unknown routes and organiser routes without a token with JSON errors', async () => {
    expect(await httpJson('/api/nothing-here')).toMatchObject({ status: 404, body: { ok: false, code: ErrorCodes.NOT_FOUND } });
    expect(await httpJson('/api/races/%ZZ/snapshot')).toMatchObject({ status: 400, body: { ok: false, code: ErrorCodes.MALFORMED_REQUEST } });
    expect(await httpJson('/api/organiser/devices')).toMatchObject({ status: 401, body: { ok: false, code: ErrorCodes.UNAUTHORIZED } });
    expect(await httpJson('/api/organiser/devices', { authorization: 'Bearer wrong' })).toMatchObject({ status: 401 });
    const devices = await httpJson('/api/organiser/devices', { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` });
    expect(devices.status).toBe(200);
    expect((devices.body.data as unknown as { devices: unknown[] }).devices).toHaveLength(8);
  });
});
