// Organisers replace a race's course over HTTP with GeoJSON, GPX or a course definition; the
// race's spectators are told, and bad uploads change nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type Ack, type CourseGeometry, type RaceSnapshot } from '../../shared/protocol.ts';
import { PRIVATE_KEY, testEvent, testDeviceToken } from '../support/fixtures.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, startTestServer, type TestServer } from '../support/test-server.ts';

let server: TestServer;
const organiser = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` };
const gpxLoop = readFileSync(new URL('../fixtures/park-loop-700m.gpx', import.meta.url), 'utf8');
const straightLine = {
  type: 'Feature',
  properties: { name: 'new street course' },
  geometry: { type: 'LineString', coordinates: [[51.40, 35.70], [51.45, 35.70], [51.50, 35.70], [51.511, 35.70]] },
};

beforeAll(async () => {
  server = await startTestServer({ event: await testEvent(Date.now() - 10 * 60_000) });
});
afterAll(async () => {
  await server.close();
});

async function put(raceId: string, body: string, contentType: string, query = '', headers: Record<string, string> = organiser) {
  const response = await fetch(`${server.url}/api/organiser/races/${raceId}/course${query}`, {
    method: 'PUT',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Ack<CourseGeometry> & { problems?: string[] } };
}

async function course(raceId: string, key?: string): Promise<CourseGeometry> {
  const response = await fetch(`${server.url}/api/races/${raceId}/course${key ? `?key=${key}` : ''}`);
  const body = (await response.json()) as Ack<CourseGeometry>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

describe('course upload', () => {
  it('is for organisers only', async () => {
    expect(await put('street-10k', JSON.stringify(straightLine), 'application/geo+json', '', {})).toMatchObject({
      status: 401,
      body: { ok: false, code: ErrorCodes.UNAUTHORIZED },
    });
    expect(await put('no-such-race', JSON.stringify(straightLine), 'application/geo+json')).toMatchObject({ status: 404 });
  });

  it('replaces a street course from GeoJSON, tells the race room, and places runners afresh', async () => {
    const watcher = connectSpectator(server.url);
    await connected(watcher);
    const joined = (await watcher.emitWithAck('race:join', { raceId: 'street-10k' })) as Ack<RaceSnapshot>;
    if (!joined.ok) throw new Error(joined.message);
    const changed = new Promise((resolve) => watcher.once('race:changed', resolve));

    const result = await put('street-10k', JSON.stringify(straightLine), 'application/geo+json');
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: true, data: { courseKind: 'street', raceDistanceM: 10000, lapLengthM: 10000 } });
    expect(await changed).toEqual({ raceId: 'street-10k', what: 'course' });
    // Points on the straight line between others add nothing the engine can see: dropped.
    expect((await course('street-10k')).lapCoordinates).toEqual([straightLine.geometry.coordinates[0], straightLine.geometry.coordinates[3]]);

    // A runner on the new line, 10 minutes in, is found there.
    const device = connectDevice(server.url, testDeviceToken('s-1'));
    await connected(device);
    const ack = (await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<{ distanceAlongRaceM: number }>> }).emitWithAck(
      'position',
      { lon: 51.41, lat: 35.7, recordedAtMs: Date.now(), accuracyM: 5 },
    )) as Ack<{ distanceAlongRaceM: number }>;
    expect(ack.ok && ack.data.distanceAlongRaceM).toBeGreaterThan(800);
    expect(ack.ok && ack.data.distanceAlongRaceM).toBeLessThan(1000);
    const snapshot = (await watcher.emitWithAck('race:join', { raceId: 'street-10k' })) as Ack<RaceSnapshot>;
    expect(snapshot.ok && snapshot.data.seq).toBeGreaterThanOrEqual(joined.data.seq);
    watcher.disconnect();
    device.disconnect();
  });

  it('replaces a private loop from a GPX file', async () => {
    const result = await put('loop-32k', gpxLoop, 'application/gpx+xml', '?kind=loop&lapLengthM=700');
    expect(result).toMatchObject({ status: 200, body: { ok: true, data: { courseKind: 'loop', lapLengthM: 700, raceDistanceM: 32000 } } });
    expect((await course('loop-32k', PRIVATE_KEY)).lapCoordinates.length).toBeGreaterThan(40);
  });

  it('takes a course definition as in the event file, a track included', async () => {
    const track = { kind: 'track', centre: { lat: 35.7, lon: 51.4 }, homeStraightBearingDeg: 90, lane: 2 };
    const result = await put('track-10k', JSON.stringify(track), 'application/json');
    expect(result).toMatchObject({ status: 200, body: { ok: true, data: { courseKind: 'track' } } });
    expect(result.body.ok && result.body.data.lapLengthM).toBeCloseTo(407.04, 1);
  });

  it('refuses a bad upload with every problem named, and leaves the course as it was', async () => {
    const before = await course('street-10k');
    const cases: Array<[string, string, string, RegExp]> = [
      [JSON.stringify({ type: 'LineString', coordinates: [[51.3, 35.7], ['x', 35.7]] }), 'application/geo+json', '', /invalid GeoJSON: at 1: Position must only contain numbers/],
      [JSON.stringify({ type: 'LineString', coordinates: [[35.7, 151.3], [35.71, 151.3]] }), 'application/geo+json', '', /coordinate 0 \[35\.7, 151\.3\] is outside/],
      [JSON.stringify({ type: 'Point', coordinates: [51.3, 35.7] }), 'application/geo+json', '', /exactly one LineString/],
      ['<gpx><trk>', 'application/gpx+xml', '', /not valid XML/],
      [JSON.stringify({ kind: 'street', file: '../../../etc/passwd' }), 'application/json', '', /not as a file name/],
      [JSON.stringify({ kind: 'track', centre: { lat: 95, lon: 51 }, homeStraightBearingDeg: 0 }), 'application/json', '', /course\.centre\.lat/],
      [JSON.stringify(straightLine), 'application/geo+json', '?kind=ring', /query\.kind/],
      [JSON.stringify({}), 'application/json', '', /send a GeoJSON line/],
    ];
    for (const [body, type, query, message] of cases) {
      const result = await put('street-10k', body, type, query);
      expect(result.status, body).toBe(400);
      expect(result.body).toMatchObject({ ok: false, code: ErrorCodes.INVALID_COURSE });
      expect(result.body.problems!.join('\n')).toMatch(message);
    }
    const onTrack = await put('track-10k', JSON.stringify(straightLine), 'application/geo+json');
    // A track race now accepts a drawn lap, but it must close on itself.
    expect(onTrack.status).toBe(400);
    expect(onTrack.body.problems!.join('\n')).toMatch(/must end where it starts; its ends are \d+ m apart/);
    expect(await put('street-10k', '{"type": "Line', 'application/json')).toMatchObject({
      status: 400,
      body: { ok: false, code: ErrorCodes.MALFORMED_REQUEST },
    });
    const huge = JSON.stringify({ type: 'LineString', coordinates: Array.from({ length: 400_000 }, (_, i) => [51 + i / 1e6, 35.7]) });
    expect((await put('street-10k', huge, 'application/geo+json')).status).toBe(413);
    // Nested too deep to be handed to the reading thread (found by the fuzz suite: it answered 500).
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(await put('street-10k', deep, 'application/geo+json')).toMatchObject({ status: 400, body: { code: ErrorCodes.INVALID_COURSE } });
    expect(await course('street-10k')).toEqual(before);
  });
});
