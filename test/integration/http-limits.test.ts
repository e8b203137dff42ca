// Guessing credentials over HTTP is blocked per address; phones already working from that address
// go on working; one device cannot flood ingest; with Redis, two processes share one count.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../shared/protocol.ts';
import { defaultHttpLimits, type HttpLimits } from '../../server/http/http-limits.ts';
import { testEvent } from '../support/fixtures.ts';
import { REDIS_URL, redis } from '../support/requirements.ts';
import { defaultSocketLimits } from '../../server/realtime/socket-limits.ts';
import { RaceService } from '../../server/race-service.ts';
import { TEST_ORGANISER_TOKEN, connectDevice, connectSpectator, connected, startTestServer, type TestServer } from '../support/test-server.ts';

const { available: redisAvailable } = await redis();
const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const limits: HttpLimits = { ...defaultHttpLimits, credentialFailuresPerAddress: 10, ingestPerDevice: 20 };

async function serverWith(options: Partial<Parameters<typeof startTestServer>[0]> = {}) {
  const event = await testEvent(Date.now() - 5 * 60_000, 3);
  const server = await startTestServer({ event, httpLimits: limits, ...options });
  servers.push(server);
  return { server, event };
}

/** One OsmAnd fix for a participant of the street race, 1 km along, recorded now. */
function osmand(server: TestServer, deviceId: string, extra = ''): Promise<Response> {
  return fetch(`${server.url}/ingest/osmand?id=${encodeURIComponent(deviceId)}&lat=35.7&lon=51.4&timestamp=${Math.round(Date.now() / 1000)}${extra}`);
}

describe('HTTP budgets', () => {
  it('block a token-guessing loop from one address, across ingest, device and organiser routes, and say when to retry', async () => {
    const { server, event } = await serverWith();
    const working = event.races[0]!.participants[0]!.deviceToken;
    const unused = event.races[0]!.participants[1]!.deviceToken;
    // A phone that works from this address before the guessing starts.
    expect((await osmand(server, working)).status).toBe(200);

    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const guess = randomBytes(12).toString('base64url');
      const target = i % 3;
      const response =
        target === 0
          ? await osmand(server, guess)
          : target === 1
            ? await fetch(`${server.url}/api/device/me`, { headers: { authorization: `Bearer ${guess}` } })
            : await fetch(`${server.url}/api/organiser/devices`, { headers: { authorization: `Bearer ${guess}` } });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await response.json()).toMatchObject({ ok: false, code: ErrorCodes.RATE_LIMITED });
      }
    }
    // The first ten are answered (401), everything after is refused before it is looked at.
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    // A right token never used from this address is refused alike: the loop learns nothing.
    expect((await osmand(server, unused)).status).toBe(429);
    // The phone that already worked from here is not locked out by its neighbour's guessing.
    expect((await osmand(server, working)).status).toBe(200);
    // Nor are spectators, and an organiser is blocked too until the window passes (their token
    // was not used from here before).
    expect((await fetch(`${server.url}/api/races`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/organiser/devices`, { headers: { authorization: `Bearer ${TEST_ORGANISER_TOKEN}` } })).status).toBe(429);
  });

  it('count only wrong credentials: a phone sending malformed fixes with its right token is not blocked', async () => {
    const { server, event } = await serverWith();
    const token = event.races[0]!.participants[2]!.deviceToken;
    for (let i = 0; i < 15; i++) expect((await osmand(server, token, '&speed=fast')).status).toBe(400);
    expect((await osmand(server, token)).status).toBe(200);
  });

  it('hold one device to its ingest budget without touching the others', async () => {
    const { server, event } = await serverWith();
    const [flooding, other] = event.races[0]!.participants;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await osmand(server, flooding!.deviceToken)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    expect((await osmand(server, other!.deviceToken)).status).toBe(200);
  });

  it('block guessing at Socket.IO handshakes the same way, without holding back spectators or working phones', async () => {
    const { server, event } = await serverWith({ socketLimits: { ...defaultSocketLimits, credentialFailuresPerAddress: 10 } });
    const working = event.races[0]!.participants[0]!.deviceToken;
    const first = connectDevice(server.url, working);
    await connected(first);
    first.disconnect();
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const socket = i % 2 === 0 ? connectDevice(server.url, randomBytes(12).toString('base64url')) : connectSpectator(server.url, { organiserToken: randomBytes(12).toString('base64url') });
      const error = await connected(socket).then(
        () => null,
        (err: { data?: { code?: string } }) => err.data?.code ?? 'none',
      );
      socket.disconnect();
      codes.push(error ?? 'connected');
    }
    expect(codes.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ErrorCodes.UNKNOWN_DEVICE : ErrorCodes.UNAUTHORIZED)));
    expect(codes.slice(10)).toEqual([ErrorCodes.RATE_LIMITED, ErrorCodes.RATE_LIMITED]);
    // A right token not used from here before is refused alike; the phone that worked is not.
    await expect(connected(connectDevice(server.url, event.races[0]!.participants[1]!.deviceToken))).rejects.toMatchObject({ data: { code: ErrorCodes.RATE_LIMITED } });
    const again = connectDevice(server.url, working);
    await connected(again);
    again.disconnect();
    const spectator = connectSpectator(server.url);
    await connected(spectator);
    spectator.disconnect();
  });

  it("bound the races made while the event runs: past the server's total a new one is refused with CAPACITY_REACHED", async () => {
    const { server } = await serverWith();
    const headers = { authorization: `Bearer ${TEST_ORGANISER_TOKEN}`, 'content-type': 'application/json' };
    const race = (i: number) => ({
      id: `added-${i}`,
      name: `Added ${i}`,
      distanceM: 5000,
      course: { kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168 },
      participants: [],
    });
    const statuses: number[] = [];
    for (let i = 0; i < RaceService.MAX_RACES; i++) {
      statuses.push((await fetch(`${server.url}/api/organiser/races`, { method: 'POST', headers, body: JSON.stringify(race(i)) })).status);
    }
    // The test event has three races: 61 more fit.
    expect(statuses.slice(0, RaceService.MAX_RACES - 3).every((s) => s === 201)).toBe(true);
    expect(statuses.slice(RaceService.MAX_RACES - 3)).toEqual([507, 507, 507]);
    expect(server.service.raceIds()).toHaveLength(RaceService.MAX_RACES);
  });

  it.skipIf(!redisAvailable)('are one count across processes sharing Redis', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    await client.connect();
    const keyPrefix = `test-rl-${randomBytes(4).toString('hex')}`;
    try {
      const rateLimitRedis = { command: (command: string, ...args: string[]) => client.call(command, ...args), keyPrefix };
      const { server: first } = await serverWith({ rateLimitRedis });
      const { server: second } = await serverWith({ rateLimitRedis });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const server = i % 2 === 0 ? first : second;
        statuses.push((await osmand(server, randomBytes(12).toString('base64url'))).status);
      }
      expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);
    } finally {
      const keys = await client.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });
});
