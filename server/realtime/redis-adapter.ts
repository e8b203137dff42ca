// Socket.IO's own Redis adapter, so a broadcast to a race's room reaches its sockets on every
// process. Two flavours: the classic one (Pub/Sub, every process hears every broadcast) and the
// sharded one (Redis 7 sharded Pub/Sub, a channel per room with `dynamic` subscriptions, so a
// process hears only rooms it has sockets in). docs/REDIS.md says which we use and why.
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { Logger } from '../logger.ts';
import { redisClientOptions } from '../ports/redis-stores.ts';

export type AdapterKind = 'classic' | 'sharded';

export interface RedisAdapter {
  adapter: ServerOptions['adapter'];
  close(): Promise<void>;
}

export async function createRedisAdapter(options: { url: string; keyPrefix: string; kind: AdapterKind; logger: Logger }): Promise<RedisAdapter> {
  // Subscriptions must come back by themselves after Redis returns: ioredis restores them.
  const pub = new Redis(options.url, { ...redisClientOptions(), maxRetriesPerRequest: null });
  const sub = new Redis(options.url, { ...redisClientOptions(), maxRetriesPerRequest: null });
  // Without listeners an unreachable Redis would crash the process.
  pub.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'redis adapter (publish) error'));
  sub.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'redis adapter (subscribe) error'));
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter =
    options.kind === 'sharded'
      ? createShardedAdapter(pub, sub, { channelPrefix: `${options.keyPrefix}:socket.io`, subscriptionMode: 'dynamic' })
      : createAdapter(pub, sub, { key: `${options.keyPrefix}:socket.io` });
  return {
    adapter,
    close: async () => {
      sub.disconnect();
      await pub.quit().catch(() => pub.disconnect());
    },
  };
}
