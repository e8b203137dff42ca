// Replay through the real server, from the ping log in memory and on the real Redis: the race's
// frames put a runner where they were at a past moment, and their own track is the fixes the
// engine placed on the course (a fix from home before the start is not in it).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, RunnerStatus, type Ack } from '../../shared/protocol.ts';
import { silentLogger } from '../../server/logger.ts';
import { createRedisStores } from '../../server/ports/redis-stores.ts';
import { createMemoryStores, type Stores } from '../../server/ports/stores.ts';
import type { Replay } from '../../server/replay.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { testEvent } from '../support/fixtures.ts';
import { REDIS_URL, redis } from '../support/requirements.ts';
import { connectDevice, connected, startTestServer, type TestServer } from '../support/test-server.ts';

const redisAvailable = (await redis()).available;

describe.each([
  ['in memory', true],
  ['on Redis', redisAvailable],
])('replay, the ping log %s', (where, available) => {
  let server: TestServer;
  let event: LoadedEvent;
  let keyPrefix: string | null = null;
  // Runner s-1: 0 to 2,000 m at 4 m/s, a fix every 5 s, the last one 10 s ago.
  const RUN_SEC = 500;
  let lastFixAtMs = 0;

  beforeAll(async () => {
    if (!available) return;
    const startsAtMs = Date.now() - 20 * 60_000;
    event = await testEvent(startsAtMs);
    let stores: Stores = createMemoryStores();
    if (where === 'on Redis') {
      keyPrefix = `test:${randomBytes(6).toString('hex')}`;
      stores = await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger });
    }
    server = await startTestServer({ event, stores });
    const race = event.races[0]!;
    const device = connectDevice(server.url, race.participants[0]!.deviceToken);
    await connected(device);
    const emit = (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck.bind(device);
    lastFixAtMs = Date.now() - 10_000;
    // A fix from home, 3 km off the course, before the start: kept in the log, in no track.
    const home = race.course.path.ruler.offset(race.course.path.pointAtRaceDistance(0), 3000, 0);
    expect((await emit('position', { lon: home[0], lat: home[1], recordedAtMs: startsAtMs - 600_000, accuracyM: 5 })).ok).toBe(true);
    for (let sec = 0; sec <= RUN_SEC; sec += 5) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(4 * sec);
      const ack = await emit('position', { lon, lat, recordedAtMs: lastFixAtMs - (RUN_SEC - sec) * 1000, accuracyM: 5 });
      if (!ack.ok) throw new Error(ack.message);
    }
    device.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    if (keyPrefix) {
      const client = new Redis(REDIS_URL);
      const keys = await client.keys(`${keyPrefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    }
  });

  const get = async <T,>(path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: (await response.json()) as Ack<T> };
  };

  it.skipIf(!available)('puts the runner where they were at a past moment, and shows where everyone was', async () => {
    const { status, body } = await get<Replay>('/api/races/street-10k/replay');
    expect(status).toBe(200);
    if (!body.ok) throw new Error(body.message);
    const replay = body.data;
    const i = replay.runners.findIndex((r) => r.participantId === 's-1');
    expect(replay.runners.map((r) => r.participantId)).toEqual(['s-1', 's-2', 's-3']);
    const frameAt = (ms: number) => Math.round((ms - replay.startsAtMs) / replay.stepMs);
    const runStartMs = lastFixAtMs - RUN_SEC * 1000;
    // Half-way through the run: at 1,000 m (within a frame's step of running at 4 m/s).
    const half = frameAt(runStartMs + (RUN_SEC / 2) * 1000);
    const tolM = 4 * (replay.stepMs / 1000) + 20;
    expect(Math.abs(replay.distances[half]![i]! - 1000)).toBeLessThan(tolM);
    expect(replay.statuses[half]![i]).toBe(RunnerStatus.onCourse);
    expect(Math.abs(replay.distances[frameAt(lastFixAtMs)]![i]! - 2000)).toBeLessThan(tolM);
    // Before the start nobody is placed; the runners who sent nothing never are.
    expect(replay.statuses[0]!).toEqual([RunnerStatus.notStarted, RunnerStatus.notStarted, RunnerStatus.notStarted]);
    expect(replay.statuses.at(-1)![1]).toBe(RunnerStatus.notStarted);
  });

  it.skipIf(!available)('gives a runner\'s own track, the fixes placed on the course, and refuses a runner not in the race', async () => {
    const { body } = await get<{ points: Array<[number, number, number]> }>('/api/races/street-10k/replay/tracks/s-1');
    if (!body.ok) throw new Error(body.message);
    expect(body.data.points).toHaveLength(RUN_SEC / 5 + 1);
    expect(body.data.points[0]![0]).toBe(lastFixAtMs - RUN_SEC * 1000);
    expect(await get('/api/races/street-10k/replay/tracks/t-1')).toMatchObject({ status: 404, body: { code: ErrorCodes.UNKNOWN_PARTICIPANT } });
    expect(await get('/api/races/loop-32k/replay')).toMatchObject({ status: 404, body: { code: ErrorCodes.UNKNOWN_RACE } });
  });
});
