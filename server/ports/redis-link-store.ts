// Live links on Redis: every process sharing the event sees a link issued through any of them,
// and a revocation made through one holds on all of them (published at once) and after every
// restart (kept until the link would have expired anyway). With the same LINK_SECRET everywhere,
// a link then works on every process.
//
// Keys, under the event's prefix:
//   link:<linkId>                 the link's claims (JSON), gone when it expires
//   links:by:<participantId>      sorted set of the runner's active links, scored by expiry
//   links:all                     sorted set of every active link (the server's bound)
//   links:revoked                 sorted set of revoked links, scored by when they would have expired
//   links:revocations             pub/sub channel: "<linkId> <expiresAtMs>" for each revocation
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { ShareLinkClaims } from '../share-links.ts';
import type { LinkStore } from './link-store.ts';
import { redisClientOptions } from './redis-stores.ts';

// The bounds checked and the link added in one step, so two processes cannot both pass a bound.
// Revocations count too: issuing and revoking in a loop would otherwise grow them for a week.
const ADD_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('SET', KEYS[3], ARGV[6], 'PXAT', ARGV[5])
return 1`;

type ScriptedRedis = Redis & {
  linkAdd(byParticipant: string, all: string, link: string, revoked: string, nowMs: string, maxPer: string, maxAll: string, linkId: string, expiresAtMs: string, claims: string): Promise<number>;
};

const isClaims = (x: unknown): x is ShareLinkClaims => {
  const c = x as Partial<ShareLinkClaims> | null;
  return !!c && typeof c.linkId === 'string' && typeof c.raceId === 'string' && typeof c.participantId === 'string' && typeof c.expiresAtMs === 'number';
};

export class RedisLinkStore implements LinkStore {
  readonly shared = true;
  private readonly listeners: Array<(linkId: string, expiresAtMs: number) => void> = [];

  private constructor(
    private readonly redis: ScriptedRedis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {}

  static async connect(options: { url: string; keyPrefix: string; logger: Logger }): Promise<RedisLinkStore> {
    const redis = new Redis(options.url, redisClientOptions()) as ScriptedRedis;
    redis.defineCommand('linkAdd', { numberOfKeys: 4, lua: ADD_LUA });
    const subscriber = new Redis(options.url, { ...redisClientOptions(), maxRetriesPerRequest: null });
    redis.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis (live links) error'));
    subscriber.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'redis (live link revocations) error'));
    await Promise.all([redis.connect(), subscriber.connect()]);
    const store = new RedisLinkStore(redis, subscriber, options.keyPrefix);
    const channel = `${options.keyPrefix}:links:revocations`;
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const [linkId, expires] = message.split(' ');
      const expiresAtMs = Number(expires);
      if (linkId && Number.isFinite(expiresAtMs)) store.tell(linkId, expiresAtMs);
    });
    // (A revocation published while this connection was away is in links:revoked: read again on every reconnection.)
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (!connectedBefore) {
        connectedBefore = true;
        return;
      }
      void store.revoked(Date.now()).then((revoked) => {
        for (const [linkId, expiresAtMs] of revoked) store.tell(linkId, expiresAtMs);
      }, () => {});
    });
    await subscriber.subscribe(channel);
    connectedBefore = true;
    return store;
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  private tell(linkId: string, expiresAtMs: number): void {
    for (const listener of this.listeners) listener(linkId, expiresAtMs);
  }

  async add(claims: ShareLinkClaims, nowMs: number, maxPerParticipant: number, maxLinks: number): Promise<boolean> {
    const added = await this.redis.linkAdd(
      this.key(`links:by:${claims.participantId}`),
      this.key('links:all'),
      this.key(`link:${claims.linkId}`),
      this.key('links:revoked'),
      String(Math.floor(nowMs)),
      String(maxPerParticipant),
      String(maxLinks),
      claims.linkId,
      String(claims.expiresAtMs),
      JSON.stringify(claims),
    );
    return added === 1;
  }

  async ofParticipant(participantId: string, nowMs: number): Promise<ShareLinkClaims[]> {
    const min = Number.isFinite(nowMs) ? `(${nowMs}` : '-inf';
    const linkIds = await this.redis.zrangebyscore(this.key(`links:by:${participantId}`), min, '+inf');
    if (linkIds.length === 0) return [];
    const values = await this.redis.mget(linkIds.map((id) => this.key(`link:${id}`)));
    return values.flatMap((value) => {
      if (value === null) return [];
      try {
        const claims: unknown = JSON.parse(value);
        return isClaims(claims) && claims.participantId === participantId ? [claims] : [];
      } catch {
        return [];
      }
    });
  }

  async revoke(linkId: string): Promise<ShareLinkClaims | null> {
    const value = await this.redis.get(this.key(`link:${linkId}`));
    if (value === null) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(value);
    } catch {
      return null;
    }
    if (!isClaims(claims)) return null;
    // Recorded as revoked before anything else, and told to every process.
    await this.redis
      .multi()
      .zadd(this.key('links:revoked'), claims.expiresAtMs, linkId)
      .del(this.key(`link:${linkId}`))
      .zrem(this.key(`links:by:${claims.participantId}`), linkId)
      .zrem(this.key('links:all'), linkId)
      .publish(this.key('links:revocations'), `${linkId} ${claims.expiresAtMs}`)
      .exec();
    return claims;
  }

  async revoked(nowMs: number): Promise<Map<string, number>> {
    const key = this.key('links:revoked');
    await this.redis.zremrangebyscore(key, '-inf', nowMs);
    const flat = await this.redis.zrange(key, 0, -1, 'WITHSCORES');
    const out = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, Number(flat[i + 1]));
    return out;
  }

  onRevoked(listener: (linkId: string, expiresAtMs: number) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
