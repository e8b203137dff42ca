// The storage contract on the real Redis: the same assertions as the in-memory stores.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/logger.ts';
import { createRedisStores } from '../../server/ports/redis-stores.ts';
import { CONTRACT_LEASE_TTL_MS, storeContract } from '../contract/stores.contract.ts';
import { REDIS_URL, redis, removeRedisKeys } from '../support/requirements.ts';

const { available } = await redis();

describe.skipIf(!available)('on Redis', () => {
  storeContract('Redis', async () => {
    // A key prefix per test, removed afterwards, so runs never see each other's data.
    const keyPrefix = `test:${randomBytes(6).toString('hex')}`;
    const options = { url: REDIS_URL, keyPrefix, logger: silentLogger, leaseTtlMs: CONTRACT_LEASE_TTL_MS };
    const stores = await createRedisStores({ ...options, holderId: 'me' });
    const other = await createRedisStores({ ...options, holderId: 'other' });
    return {
      stores,
      otherLeases: other.leases,
      close: async () => {
        await removeKeys(keyPrefix);
        await stores.close();
        await other.close();
      },
    };
  });
});

describe.skipIf(!available)('a tracker app\'s offline batch on Redis', () => {
  it('goes into the race\'s log as one Stream entry or a few, never one per fix, each fix answered and applied in recorded order', async () => {
    const { startTestServer } = await import('../support/test-server.ts');
    const { testEvent } = await import('../support/fixtures.ts');
    const keyPrefix = `test:${randomBytes(6).toString('hex')}`;
    const event = await testEvent(Date.now() - 10 * 60_000);
    const course = event.races[0]!.course;
    const server = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }) });
    const admin = new Redis(REDIS_URL);
    try {
      const streamKey = `${keyPrefix}:race:street-10k:pings`;
      const before = await admin.xlen(streamKey);
      // 120 fixes of a buffer, 5 s apart, sent newest first (apps do not promise an order).
      const locations = Array.from({ length: 120 }, (_, k) => {
        const [lon, lat] = course.path.pointAtRaceDistance(1000 + k * 15);
        return { timestamp: new Date(Date.now() - 700_000 + k * 5000).toISOString(), coords: { latitude: lat, longitude: lon, accuracy: 5 } };
      }).reverse();
      const response = await fetch(`${server.url}/ingest/osmand`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: event.races[0]!.participants[0]!.deviceToken, location: locations }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ok: true, data: { accepted: 120, refused: [] } });
      // One entry; a few if this machine took longer than the log's 5 ms to hand the 120 over (it
      // then sends what it holds; a loaded CI machine made 3): never one per fix.
      expect((await admin.xlen(streamKey)) - before).toBeLessThanOrEqual(6);
      const logged = (await server.stores.pingLog.read('street-10k')).map((p) => p.fix.recordedAtMs);
      expect(logged).toHaveLength(120);
      expect(logged).toEqual([...logged].sort((a, b) => a - b));
      // Applied by the race's writer (this process), the runner at the buffer's newest fix.
      await expect.poll(() => server.service.snapshot(server.service.race('street-10k')!).runners[0]!.distanceAlongRaceM, { timeout: 5_000 }).toBeGreaterThan(2600);
    } finally {
      await admin.quit();
      await server.close();
      await server.stores.close();
      await removeKeys(keyPrefix);
    }
  });
});

describe.skipIf(!available)('the shared log, trimmed behind the checkpoints', () => {
  it('keeps what a restart needs: a server started on a trimmed log continues each runner from where they were', async () => {
    const { startTestServer, connectDevice, connected } = await import('../support/test-server.ts');
    const { testEvent } = await import('../support/fixtures.ts');
    const keyPrefix = `test:${randomBytes(6).toString('hex')}`;
    const event = await testEvent(Date.now() - 10 * 60_000);
    const course = event.races[0]!.course;
    // No retention for replays, no margin, and a trim after every checkpoint: the most a trim can take.
    const logRetention = { retentionMs: 0, trimEveryMs: 0, lagMarginMs: 0 };
    const first = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }), logRetention });
    const device = connectDevice(first.url, event.races[0]!.participants[0]!.deviceToken);
    await connected(device);
    for (let k = 0; k < 20; k++) {
      const [lon, lat] = course.path.pointAtRaceDistance(1500 + k * 15);
      const ack = await device.emitWithAck('position', { lon, lat, recordedAtMs: Date.now() - 100_000 + k * 5000, accuracyM: 5, speedMps: 3 });
      expect(ack.ok).toBe(true);
    }
    device.disconnect();
    const admin = new Redis(REDIS_URL);
    const streamKey = `${keyPrefix}:race:street-10k:pings`;
    // Each tick's checkpoint trims behind itself: the log shrinks to its last entries.
    await expect.poll(() => admin.xlen(streamKey), { timeout: 10_000 }).toBeLessThan(20);
    const before = first.service.snapshot(first.service.race('street-10k')!);
    await first.close();
    await first.stores.close();

    const second = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }), logRetention });
    try {
      const snapshot = second.service.snapshot(second.service.race('street-10k')!);
      expect(snapshot.runners[0]!.distanceAlongRaceM).toBe(before.runners[0]!.distanceAlongRaceM);
    } finally {
      await second.close();
      await removeKeys(keyPrefix);
      await second.stores.close();
      await admin.quit();
    }
  });
});

describe.skipIf(!available)('a server restarted on Redis', () => {
  it('keeps every acknowledged ping and continues each runner from where they were', async () => {
    const { startTestServer, connectDevice, connected } = await import('../support/test-server.ts');
    const { testEvent } = await import('../support/fixtures.ts');
    const keyPrefix = `test:${randomBytes(6).toString('hex')}`;
    const event = await testEvent(Date.now() - 10 * 60_000);
    const course = event.races[0]!.course;
    const send = async (url: string, distanceM: number, agoMs: number) => {
      const device = connectDevice(url, event.races[0]!.participants[0]!.deviceToken);
      await connected(device);
      const [lon, lat] = course.path.pointAtRaceDistance(distanceM);
      const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<{ ok: boolean; data?: { distanceAlongRaceM: number; applied: boolean } }> }).emitWithAck(
        'position',
        { lon, lat, recordedAtMs: Date.now() - agoMs, accuracyM: 5, speedMps: 3 },
      );
      device.disconnect();
      return ack;
    };

    const first = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }) });
    for (let k = 0; k < 6; k++) expect((await send(first.url, 1500 + k * 15, 60_000 - k * 5000)).ok).toBe(true);
    const before = first.service.snapshot(first.service.race('street-10k')!);
    await first.close();
    await first.stores.close();

    // A new process: same event, same Redis.
    const second = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }) });
    try {
      expect(await second.stores.pingLog.count('street-10k')).toBe(6);
      const snapshot = second.service.snapshot(second.service.race('street-10k')!);
      // Exactly where the first process had the runner: its last checkpoint, then the pings after it.
      expect(snapshot.runners[0]!.distanceAlongRaceM).toBe(before.runners[0]!.distanceAlongRaceM);
      // The next fix continues from there, not from the start: applied by this process once it
      // writes the race (before, a fix is stored and answered with where the runner was).
      await expect.poll(() => second.app.coordinator.isWriter('street-10k'), { timeout: 10_000 }).toBe(true);
      const next = await send(second.url, 1600, 0);
      expect(next.ok && next.data!.applied).toBe(true);
      expect(next.ok && next.data!.distanceAlongRaceM).toBeGreaterThan(1580);
      expect(next.ok && next.data!.distanceAlongRaceM).toBeLessThan(1620);
      // Its deltas go on after every number the first process could have sent.
      await expect.poll(() => second.service.snapshot(second.service.race('street-10k')!).seq, { timeout: 10_000 }).toBeGreaterThan(before.seq);
    } finally {
      await second.close();
      await removeKeys(keyPrefix);
      await second.stores.close();
    }
  });

  it('keeps crossing times, finishes and an organiser\'s lap count', async () => {
    const { startTestServer, connectDevice, connected } = await import('../support/test-server.ts');
    const { testEvent } = await import('../support/fixtures.ts');
    const keyPrefix = `test:${randomBytes(6).toString('hex')}`;
    const event = await testEvent(Date.now() - 45 * 60_000);
    /** One runner's fixes every 5 s from `fromM` to `toM`, the last one just now. */
    const run = async (url: string, raceIndex: number, fromM: number, toM: number) => {
      const race = event.races[raceIndex]!;
      const device = connectDevice(url, race.participants[0]!.deviceToken);
      await connected(device);
      const steps = Math.round((toM - fromM) / 20);
      const nowMs = Date.now();
      for (let k = 0; k <= steps; k++) {
        const [lon, lat] = race.course.path.pointAtRaceDistance(fromM + ((toM - fromM) * k) / steps);
        const fix = { lon, lat, recordedAtMs: nowMs - (steps - k) * 5000, accuracyM: 5 };
        const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<{ ok: boolean }> }).emitWithAck('position', fix);
        expect(ack.ok).toBe(true);
      }
      device.disconnect();
    };
    const organiser = { authorization: 'Bearer test-organiser-token-0123456789', 'content-type': 'application/json' };

    const first = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }) });
    await run(first.url, 0, 4800, 5200); // past 5 km
    await run(first.url, 1, 100, 200); // on the track, first seen 45 minutes in
    const lap = await fetch(`${first.url}/api/organiser/participants/t-1/lap`, { method: 'POST', headers: organiser, body: JSON.stringify({ lap: 20 }) });
    expect(lap.status).toBe(200);
    const before = [first.service.snapshot(first.service.race('street-10k')!), first.service.snapshot(first.service.race('track-10k')!)];
    expect(before[0]!.runners[0]!.crossings).toHaveLength(1);
    expect(before[1]!.runners[0]!.lap).toBe(20);
    await first.close();
    await first.stores.close();

    const second = await startTestServer({ event, stores: await createRedisStores({ url: REDIS_URL, keyPrefix, logger: silentLogger }) });
    try {
      const after = [second.service.snapshot(second.service.race('street-10k')!), second.service.snapshot(second.service.race('track-10k')!)];
      expect(after[0]!.runners[0]).toEqual(before[0]!.runners[0]);
      expect(after[1]!.runners[0]).toEqual(before[1]!.runners[0]);
    } finally {
      await second.close();
      await removeKeys(keyPrefix);
      await second.stores.close();
    }
  });
});

// Redis going away and coming back is tested with real server processes in cluster.test.ts.

const removeKeys = removeRedisKeys;
