// How much Redis memory a race's log takes: one hour of a 1,000-runner race (a fix every 5 s:
// 720,000 pings) measured on a tenth of it and scaled, with the real log on the real Redis, once
// with each ping its own Stream entry (pings arriving one by one) and once ten to an entry (a
// busy server batches the pings of one turn of its event loop). Run: npm run bench:log-memory
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { silentLogger } from '../server/logger.ts';
import { createRedisStores } from '../server/ports/redis-stores.ts';
import { seededRandom } from '../shared/random.ts';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const runners = 1000;
const fixesPerRunnerPerHour = 720;
const share = 10; // a tenth of the hour, scaled up
const random = seededRandom(7);
const admin = new Redis(url);

async function measure(perEntry: number): Promise<number> {
  const keyPrefix = `bench-log:${randomBytes(4).toString('hex')}`;
  const stores = await createRedisStores({ url, keyPrefix, logger: silentLogger });
  const pings = (runners * fixesPerRunnerPerHour) / share;
  const startMs = Date.UTC(2026, 10, 22, 6, 0);
  for (let sent = 0; sent < pings; sent += perEntry) {
    // Appended in the same turn: one entry of `perEntry` pings.
    await Promise.all(
      Array.from({ length: perEntry }, (_, k) => {
        const n = sent + k;
        return stores.pingLog.append({
          raceId: 'race',
          participantId: `m42-${1001 + (n % runners)}`,
          receivedAtMs: startMs + n * 5,
          fix: {
            lat: 35.7 + random.between(-0.05, 0.05),
            lon: 51.39 + random.between(-0.05, 0.05),
            recordedAtMs: startMs + n * 5,
            accuracyM: Math.round(random.between(3, 15)),
            speedMps: Math.round(random.between(2, 5) * 100) / 100,
            headingDeg: Math.round(random.between(0, 360)),
            batteryPct: Math.round(random.between(20, 100)),
          },
        });
      }),
    );
  }
  const bytes = Number(await admin.call('MEMORY', 'USAGE', `${keyPrefix}:race:race:pings`, 'SAMPLES', '0'));
  await admin.del(`${keyPrefix}:race:race:pings`);
  await stores.close();
  return bytes * share;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
for (const perEntry of [1, 10]) {
  const bytes = await measure(perEntry);
  process.stdout.write(`one hour of ${runners} runners at a fix every 5 s, ${perEntry} ping${perEntry > 1 ? 's' : ''} an entry: ${mb(bytes)} MB (${(bytes / (runners * fixesPerRunnerPerHour)).toFixed(0)} bytes a ping)\n`);
}
await admin.quit();
