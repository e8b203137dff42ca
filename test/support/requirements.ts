// Parts of the machine some tests need. In CI (CI=true) a missing part fails the run; elsewhere
// the tests that need it are skipped with a message saying how to get it.
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';

export interface Requirement {
  available: boolean;
  /** How to get the part, for the skip message. */
  remedy: string;
}

function requirement(name: string, available: boolean, remedy: string): Requirement {
  if (!available && inCi) throw new Error(`${name} is required in CI but missing: ${remedy}`);
  if (!available) console.warn(`skipping tests that need ${name}: ${remedy}`);
  return { available, remedy };
}

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Removes a test's keys (each test run keeps its data under a prefix of its own). */
export async function removeRedisKeys(...prefixes: string[]): Promise<void> {
  const { Redis } = await import('ioredis');
  const admin = new Redis(REDIS_URL);
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
}

/** Whether Redis answers at REDIS_URL (default 127.0.0.1:6379). */
export async function redis(): Promise<Requirement> {
  const { Redis } = await import('ioredis');
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  let available: boolean;
  try {
    await client.connect();
    available = (await client.ping()) === 'PONG';
  } catch {
    available = false;
  } finally {
    client.disconnect();
  }
  return requirement(
    'Redis',
    available,
    `start one with "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no", or set REDIS_URL`,
  );
}

export function chromium(): Requirement {
  return requirement('Chromium', existsSync(CHROMIUM_PATH), 'install it with "apt-get install -y chromium"');
}

/** Flags that work on this machine kind (DESIGN §7). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
];
