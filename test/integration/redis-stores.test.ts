// The storage contract on the real Redis: the same assertions as the in-memory stores.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/logger.ts';
import { createRedisStores } from '../../server/ports/redis-stores.ts';
import { CONTRACT_LEASE_TTL_MS, storeContract } from '../contract/stores.contract.ts';
import { REDIS_URL, redis } from '../support/requirements.ts';

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
      const ack = await (device as unknown as { emitWithAck(e: string, p: unknown): Promise<{ ok: boolean; data?: { distanceAlongRaceM: number } }> }).emitWithAck(
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
      expect(snapshot.seq).toBeGreaterThanOrEqual(before.seq);
      // The next fix continues from there, not from the start.
      const next = await send(second.url, 1600, 0);
      expect(next.ok && next.data!.distanceAlongRaceM).toBeGreaterThan(1580);
      expect(next.ok && next.data!.distanceAlongRaceM).toBeLessThan(1620);
    } finally {
      await second.close();
      await removeKeys(keyPrefix);
      await second.stores.close();
    }
  });
});

describe.skipIf(!available)('Redis going away and coming back', () => {
  it('answers "send again" and reports it in /healthz without crashing, then resumes', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startTestServer, connectDevice, connected } = await import('../support/test-server.ts');
    const { testEvent } = await import('../support/fixtures.ts');
    // A Redis of this test's own, so it can be killed; every write synced, so a restart keeps it.
    const port = 20000 + Math.floor(Math.random() * 20000);
    const dir = mkdtempSync(join(tmpdir(), 'redis-'));
    const startRedis = () =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], {
        stdio: 'ignore',
      });
    const waitForRedis = async () => {
      for (let i = 0; i < 100; i++) {
        const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        probe.on('error', () => {});
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error('the test Redis did not start');
    };
    let redisProcess = startRedis();
    await waitForRedis();
    const url = `redis://127.0.0.1:${port}`;
    const event = await testEvent(Date.now() - 10 * 60_000);
    const server = await startTestServer({ event, stores: await createRedisStores({ url, keyPrefix: 'fault', logger: silentLogger }) });
    const device = connectDevice(server.url, event.races[0]!.participants[0]!.deviceToken);
    await connected(device);
    const send = (distanceM: number) => {
      const [lon, lat] = event.races[0]!.course.path.pointAtRaceDistance(distanceM);
      return (device as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<{ ok: boolean; code?: string }> } })
        .timeout(15_000)
        .emitWithAck('position', { lon, lat, recordedAtMs: Date.now(), accuracyM: 5 });
    };
    const health = async () => (await fetch(`${server.url}/healthz`)).status;
    try {
      expect(await send(1500)).toMatchObject({ ok: true });
      expect(await health()).toBe(200);

      redisProcess.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      expect(await health()).toBe(503);
      expect(await send(1520)).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      expect(await health()).toBe(503); // still serving, still honest

      redisProcess = startRedis();
      await waitForRedis();
      await expect.poll(health, { timeout: 10_000, interval: 200 }).toBe(200);
      expect(await send(1540)).toMatchObject({ ok: true });
      // The fix acknowledged before the outage survived it; the refused one was never stored.
      expect(await server.stores.pingLog.count('street-10k')).toBe(2);
    } finally {
      device.disconnect();
      await server.close();
      await server.stores.close().catch(() => {});
      redisProcess.kill('SIGKILL');
    }
  }, 60_000);
});

async function removeKeys(keyPrefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL);
  const keys = await admin.keys(`${keyPrefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
}
