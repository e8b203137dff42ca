// Tracker apps, byte for byte: each fixture request moves its runner on the map of the right
// race; malformed requests are refused with a documented reason and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus, type Ack, type RaceSnapshot } from '../../shared/protocol.ts';
import { decodeDelta, type DeltaEntry } from '../../shared/wire.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { testEvent } from '../support/fixtures.ts';
import { renderFixture, sendRaw } from '../support/raw-http.ts';
import { connectSpectator, connected, deliveredTo, startTestServer, until, type SpectatorSocket, type TestServer } from '../support/test-server.ts';

let server: TestServer;
let event: LoadedEvent;
let watcher: SpectatorSocket;
const seen = new Map<number, DeltaEntry>();

beforeAll(async () => {
  event = await testEvent(Date.now() - 10 * 60_000, 12);
  server = await startTestServer({ event });
  watcher = connectSpectator(server.url);
  await connected(watcher);
  const other = connectSpectator(server.url);
  await connected(other);
  await watcher.emitWithAck('race:join', { raceId: 'street-10k' });
  watcher.on('race:delta', (raceId, bytes) => {
    if (raceId !== 'street-10k') throw new Error(`delta of ${raceId} in the street race's room`);
    for (const entry of decodeDelta(bytes).entries) seen.set(entry.runnerIndex, entry);
  });
});
afterAll(async () => {
  watcher.disconnect();
  await server.close();
});

const streetRace = () => event.races.find((r) => r.raceId === 'street-10k')!;

/** The values a fixture needs for runner `index` of the street race, placed `distanceM` along it. */
function valuesFor(index: number, distanceM: number, agoMs = 2000) {
  const race = streetRace();
  const participant = race.participants[index]!;
  const point = (m: number) => race.course.path.pointAtRaceDistance(m);
  const [lon, lat] = point(distanceM);
  const [lon2, lat2] = point(distanceM - 40);
  const [lon3, lat3] = point(distanceM + 20);
  const at = Date.now() - agoMs;
  return {
    deviceId: participant.deviceToken,
    user: participant.participantId,
    basicAuth: Buffer.from(`${participant.participantId}:${participant.deviceToken}`).toString('base64'),
    host: `127.0.0.1:${server.port}`,
    lat: lat.toFixed(7),
    lon: lon.toFixed(7),
    lat2: lat2.toFixed(7),
    lon2: lon2.toFixed(7),
    lat3: lat3.toFixed(7),
    lon3: lon3.toFixed(7),
    timestampSec: Math.round(at / 1000),
    timestampMs: at,
    isoTime: new Date(at).toISOString(),
    isoTime2: new Date(at - 12_000).toISOString(),
    isoTime3: new Date(at + 1000).toISOString(),
  };
}


async function snapshot(): Promise<RaceSnapshot> {
  const body = (await (await fetch(`${server.url}/api/races/street-10k/snapshot`)).json()) as Ack<RaceSnapshot>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

describe('tracker apps', () => {
  it.each([
    ['traccar-client-classic.http', 0, '200'],
    ['traccar-client-form.http', 1, '200'],
    ['osmand.http', 2, '200'],
    ['gpslogger.http', 3, '200'],
    ['traccar-client-9.http', 4, '200'],
    ['traccar-client-9-batch.http', 5, '200'],
    ['owntracks.http', 6, '200 []'],
  ] as const)('%s moves its runner on the map of the race', async (fixture, runnerIndex, expected) => {
    const distanceM = 1500 + runnerIndex * 10;
    const response = await sendRaw(server.port, renderFixture(fixture, valuesFor(runnerIndex, distanceM)));
    expect(`${response.status}${response.body === '[]' ? ' []' : ''}`).toBe(expected);
    await until(() => seen.has(runnerIndex));
    const entry = seen.get(runnerIndex)!;
    expect(entry.status).toBe(RunnerStatus.onCourse);
    // The batch's newest fix is 20 m further on.
    const expectedM = fixture === 'traccar-client-9-batch.http' ? distanceM + 20 : distanceM;
    expect(Math.abs(entry.distanceAlongRaceM - expectedM)).toBeLessThan(15);
  });

  it('converts units: knots, km/h and a battery level of 0..1', async () => {
    const logged = await server.stores.pingLog.read('street-10k');
    const of = (participantId: string) => logged.find((p) => p.participantId === participantId)!.fix;
    expect(of('s-1').speedMps).toBeCloseTo(6.6 * 0.514444, 4); // Traccar Client: knots
    expect(of('s-3').speedMps).toBe(3.4); // OsmAnd template: m/s
    expect(of('s-5')).toMatchObject({ speedMps: 3.41, batteryPct: 74, headingDeg: 92.3, accuracyM: 7.8 });
    expect(of('s-7')).toMatchObject({ speedMps: expect.closeTo(12 / 3.6, 9), batteryPct: 68, headingDeg: 92, accuracyM: 9 });
    // Traccar 9's -1 means unknown: left out rather than refused.
    const batch = logged.filter((p) => p.participantId === 's-6').map((p) => p.fix);
    expect(batch).toHaveLength(3);
    expect(batch.map((f) => f.recordedAtMs)).toEqual([...batch.map((f) => f.recordedAtMs)].sort((a, b) => a - b));
    expect(batch[2]).not.toHaveProperty('speedMps');
  });

  it('accepts a resent fix idempotently', async () => {
    const values = valuesFor(0, 1520, 1000);
    const first = await sendRaw(server.port, renderFixture('traccar-client-classic.http', values));
    const count = await server.stores.pingLog.count('street-10k');
    const again = await sendRaw(server.port, renderFixture('traccar-client-classic.http', values));
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(JSON.parse(again.body)).toMatchObject({ ok: true, data: { applied: false } });
    // A copy is not logged again: resent buffers would fill the log with copies.
    expect(await server.stores.pingLog.count('street-10k')).toBe(count);
  });

  it('answers OwnTracks messages without a fix, and empty bodies, with []', async () => {
    for (const fixture of ['owntracks-transition.http', 'owntracks-empty.http']) {
      const response = await sendRaw(server.port, renderFixture(fixture, valuesFor(7, 1500)));
      expect([response.status, response.body]).toEqual([200, '[]']);
    }
  });
});

describe('bad requests from trackers', () => {
  const get = async (query: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}/ingest/osmand?${query}`, init);
    return { status: response.status, body: (await response.json()) as { ok: boolean; code?: string; message?: string } };
  };

  it('refuses each malformed request with its reason and leaves the race untouched', async () => {
    const before = await snapshot();
    const logged = await server.stores.pingLog.count('street-10k');
    const v = valuesFor(8, 1500);
    const base = `timestamp=${v.timestampSec}&lat=${v.lat}&lon=${v.lon}`;
    const cases: Array<[string, number, string]> = [
      [base, 401, ErrorCodes.UNKNOWN_DEVICE],
      [`id=no-such-device&${base}`, 401, ErrorCodes.UNKNOWN_DEVICE],
      [`id=${v.deviceId}&timestamp=${v.timestampSec}&lat=${v.lat}`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&timestamp=${v.timestampSec}&lat=NaN&lon=${v.lon}`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&timestamp=${v.timestampSec}&lat=35.7abc&lon=${v.lon}`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&timestamp=${v.timestampSec}&lat=135.7&lon=${v.lon}`, 400, ErrorCodes.COORDINATES_OUT_OF_RANGE],
      [`id=${v.deviceId}&timestamp=yesterday&lat=${v.lat}&lon=${v.lon}`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&${base}&speed=fast`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&timestamp=${v.timestampSec + 7200}&lat=${v.lat}&lon=${v.lon}`, 400, ErrorCodes.FIX_FROM_FUTURE],
      [`id=${v.deviceId}&timestamp=${v.timestampSec}&location=${v.lat}`, 400, ErrorCodes.MALFORMED_FIX],
      [`id=${v.deviceId}&timestamp=2026-02-30T10:00:00Z&lat=${v.lat}&lon=${v.lon}`, 400, ErrorCodes.MALFORMED_FIX], // no such day
      [`id=${v.deviceId}&timestamp=2026-02-30+10:00:00&lat=${v.lat}&lon=${v.lon}`, 400, ErrorCodes.MALFORMED_FIX],
    ];
    for (const [query, status, code] of cases) {
      const result = await get(query);
      expect(result.status, query).toBe(status);
      expect(result.body, query).toMatchObject({ ok: false, code });
    }
    const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await get('', json({ device_id: v.deviceId, location: { timestamp: 'now', coords: { latitude: 1, longitude: 2 } } }))).toMatchObject({
      status: 400,
      body: { code: ErrorCodes.MALFORMED_FIX },
    });
    expect(await get('', json({ location: {} }))).toMatchObject({ status: 401, body: { code: ErrorCodes.UNKNOWN_DEVICE } });
    const huge = await fetch(`${server.url}/ingest/osmand`, json({ device_id: v.deviceId, padding: 'x'.repeat(3_000_000) }));
    expect(huge.status).toBe(413);
    const broken = await fetch(`${server.url}/ingest/osmand`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"device_id":' });
    expect(broken.status).toBe(400);
    // A HEAD changes nothing, whatever its query string carries.
    expect((await fetch(`${server.url}/ingest/osmand?id=${v.deviceId}&${base}`, { method: 'HEAD' })).status).toBe(400);

    expect(await snapshot()).toMatchObject({ seq: expect.any(Number), runners: before.runners });
    expect(await server.stores.pingLog.count('street-10k')).toBe(logged);
  });

  it("reads Traccar's yyyy-MM-dd HH:mm:ss as UTC, and stamps a fix without a timestamp on receipt", async () => {
    const v = valuesFor(7, 1500, 60_000);
    const at = new Date(v.timestampSec * 1000).toISOString().slice(0, 19).replace('T', '+'); // '+' is a space once decoded
    expect((await fetch(`${server.url}/ingest/osmand?id=${v.deviceId}&timestamp=${at}&lat=${v.lat}&lon=${v.lon}`)).status).toBe(200);
    const beforeMs = Date.now();
    const unstamped = valuesFor(7, 1560);
    expect((await fetch(`${server.url}/ingest/osmand?id=${v.deviceId}&lat=${unstamped.lat}&lon=${unstamped.lon}`)).status).toBe(200);
    const logged = (await server.stores.pingLog.read('street-10k')).filter((p) => p.participantId === 's-8').map((p) => p.fix.recordedAtMs);
    expect(logged.at(-2)).toBe(v.timestampSec * 1000);
    expect(logged.at(-1)).toBeGreaterThanOrEqual(beforeMs);
    expect(logged.at(-1)).toBeLessThanOrEqual(Date.now());
  });

  it('leaves out a glitch in an optional field rather than refusing the position (apps retry refusals forever)', async () => {
    const v = valuesFor(11, 1500);
    const response = await fetch(`${server.url}/ingest/osmand?id=${v.deviceId}&timestamp=${v.timestampSec}&lat=${v.lat}&lon=${v.lon}&speed=300&batt=250&accuracy=7`);
    expect(response.status).toBe(200);
    const logged = (await server.stores.pingLog.read('street-10k')).filter((p) => p.participantId === 's-12');
    expect(logged.at(-1)!.fix).toEqual({ lat: Number(v.lat), lon: Number(v.lon), recordedAtMs: v.timestampSec * 1000, accuracyM: 7 });
  });

  it('reads OsmAnd HDOP as an accuracy', async () => {
    const response = await sendRaw(server.port, renderFixture('osmand.http', valuesFor(2, 1530)));
    expect(response.status).toBe(200);
    const logged = (await server.stores.pingLog.read('street-10k')).filter((p) => p.participantId === 's-3');
    expect(logged.at(-1)!.fix.accuracyM).toBe(30); // hdop 6.0 × 5 m
  });

  it('refuses OwnTracks without the right credentials', async () => {
    const v = valuesFor(9, 1500);
    const wrongPassword = { ...v, basicAuth: Buffer.from(`${v.user}:not-the-token`).toString('base64') };
    const response = await sendRaw(server.port, renderFixture('owntracks.http', wrongPassword));
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic/);
    const otherUser = { ...v, user: 's-1' }; // the URL names another participant than the credentials
    expect((await sendRaw(server.port, renderFixture('owntracks.http', otherUser))).status).toBe(401);
    await deliveredTo(server, watcher);
    expect(seen.has(9)).toBe(false);
    expect((await server.stores.pingLog.read('street-10k')).some((p) => p.participantId === 's-10')).toBe(false);
  });
});

describe('device credentials', () => {
  const organiser = { authorization: 'Bearer test-organiser-token-0123456789' };

  it('are issued and revoked by organisers, and a revoked token stops working everywhere at once', async () => {
    const participant = streetRace().participants[10]!;
    const oldToken = participant.deviceToken;
    const { connectDevice } = await import('../support/test-server.ts');
    const socket = connectDevice(server.url, oldToken);
    await connected(socket);
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));

    expect((await fetch(`${server.url}/api/organiser/participants/${participant.participantId}/device-token`, { method: 'POST' })).status).toBe(401);
    const issued = await fetch(`${server.url}/api/organiser/participants/${participant.participantId}/device-token`, { method: 'POST', headers: organiser });
    const { data } = (await issued.json()) as { data: { deviceToken: string } };
    expect(data.deviceToken).not.toBe(oldToken);
    expect(data.deviceToken.length).toBeGreaterThanOrEqual(24);
    await dropped; // the old token's connection is closed

    const send = (deviceId: string) => sendRaw(server.port, renderFixture('osmand.http', { ...valuesFor(10, 1500), deviceId }));
    expect((await send(oldToken)).status).toBe(401);
    expect((await send(data.deviceToken)).status).toBe(200);
    const me = await fetch(`${server.url}/api/device/me`, { headers: { authorization: `Bearer ${data.deviceToken}` } });
    expect(await me.json()).toMatchObject({ ok: true, data: { participantId: participant.participantId, raceId: 'street-10k', raceName: 'Street 10 km' } });

    const revoked = await fetch(`${server.url}/api/organiser/participants/${participant.participantId}/device-token`, { method: 'DELETE', headers: organiser });
    expect(revoked.status).toBe(200);
    expect((await send(data.deviceToken)).status).toBe(401);
    expect((await fetch(`${server.url}/api/device/me`, { headers: { authorization: `Bearer ${data.deviceToken}` } })).status).toBe(401);
    const devices = (await (await fetch(`${server.url}/api/organiser/devices`, { headers: organiser })).json()) as {
      data: { devices: Array<{ participantId: string; deviceToken: string | null }> };
    };
    expect(devices.data.devices.find((d) => d.participantId === participant.participantId)!.deviceToken).toBeNull();
    expect((await fetch(`${server.url}/api/organiser/participants/nobody/device-token`, { method: 'POST', headers: organiser })).status).toBe(404);
  });
});

describe('a store that fails', () => {
  it('answers a batch "send again" (503) when any of its fixes could not be stored', async () => {
    const { createMemoryStores, MemoryPingLog } = await import('../../server/ports/stores.ts');
    const stores = createMemoryStores();
    let appends = 0;
    let away = true;
    // A ping log that fails after its first write, as a store going away would.
    stores.pingLog = Object.assign(new MemoryPingLog(), {
      append: async function (this: InstanceType<typeof MemoryPingLog>, ping: Parameters<InstanceType<typeof MemoryPingLog>['append']>[0]) {
        if (++appends > 1 && away) throw new Error('store unavailable');
        return MemoryPingLog.prototype.append.call(this, ping);
      },
    });
    const failing = await startTestServer({ event, stores });
    try {
      const request = renderFixture('traccar-client-9-batch.http', { ...valuesFor(5, 1600), host: `127.0.0.1:${failing.port}` });
      const response = await sendRaw(failing.port, request);
      expect(response.status).toBe(503);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, code: ErrorCodes.UNAVAILABLE });
      expect(await stores.pingLog.count('street-10k')).toBe(1);
      // The store is back and the app sends its buffer again: what was not stored is stored now,
      // and the one fix stored before is not stored twice.
      away = false;
      const again = await sendRaw(failing.port, request);
      expect(again.status).toBe(200);
      const text = request.toString();
      const sent = (JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { location: unknown[] }).location.length;
      expect(await stores.pingLog.count('street-10k')).toBe(sent);
    } finally {
      await failing.close();
    }
  });
});
