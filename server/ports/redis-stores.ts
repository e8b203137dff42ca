// The storage ports on Redis (ioredis): a Stream of pings per race, so an acknowledged ping is
// never lost and a race can be replayed, and a hash of runner states per race, so a restarted or
// second process continues the race. What Redis itself promises (an append-only file synced
// every second can lose up to a second) is in docs/REDIS.md.
import { Redis } from 'ioredis';
import type { RunnerState } from '../core/race-tracker.ts';
import type { Logger } from '../logger.ts';
import type { LoggedPing, PingLog, RunnerStateStore, Stores } from './stores.ts';

export interface RedisStoresOptions {
  url: string;
  /** Prepended to every key, so several events (or test runs) share one Redis. */
  keyPrefix: string;
  logger: Logger;
}

export class RedisPingLog implements PingLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(raceId: string): string {
    return `${this.prefix}:race:${raceId}:pings`;
  }

  async append(ping: LoggedPing): Promise<void> {
    await this.redis.xadd(this.key(ping.raceId), '*', 'ping', JSON.stringify(ping));
  }

  async read(raceId: string): Promise<LoggedPing[]> {
    const entries = await this.redis.xrange(this.key(raceId), '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as LoggedPing);
  }

  async count(raceId: string): Promise<number> {
    return this.redis.xlen(this.key(raceId));
  }
}

export class RedisRunnerStateStore implements RunnerStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(raceId: string): string {
    return `${this.prefix}:race:${raceId}:runners`;
  }

  async save(raceId: string, state: RunnerState): Promise<void> {
    await this.redis.hset(this.key(raceId), state.participantId, JSON.stringify(state));
  }

  async loadRace(raceId: string): Promise<RunnerState[]> {
    const all = await this.redis.hgetall(this.key(raceId));
    // A value another version wrote is checked by the tracker when it restores it.
    return Object.values(all).map((json) => JSON.parse(json) as RunnerState);
  }
}

export async function createRedisStores(options: RedisStoresOptions): Promise<Stores> {
  const redis = new Redis(options.url, {
    // Fail a command after a while rather than queueing it for ever: the ping is then answered
    // UNAVAILABLE (send again) instead of hanging.
    maxRetriesPerRequest: 2,
    lazyConnect: true,
  });
  // Without a listener an unreachable Redis would crash the process.
  redis.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis error'));
  await redis.connect();
  return {
    pingLog: new RedisPingLog(redis, options.keyPrefix),
    runnerStates: new RedisRunnerStateStore(redis, options.keyPrefix),
    isHealthy: async () => {
      if (redis.status !== 'ready') return false;
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    close: async () => {
      await redis.quit();
    },
  };
}
