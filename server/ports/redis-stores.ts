// The storage ports on Redis (ioredis): a Stream of pings per race, so an acknowledged ping is
// never lost, a race can be replayed and every process applies the same pings in the same order;
// a hash of runner states per race with a checkpoint of where they stand, so a restarted or
// second process continues the race; and a lease per race, so one process at a time sends its
// deltas. What Redis itself promises (an append-only file synced every second can lose up to a
// second) is in docs/REDIS.md.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { RunnerState } from '../core/runner-state.ts';
import type { Logger } from '../logger.ts';
import { MAX_AUDIT_ENTRIES, compareLogIds, entryIdOf, type AuditEntry, type CheckpointMeta, type EventRecords, type LogEntry, type LoggedPing, type PingLog, type RaceLeases, type RunnerStateStore, type Stores } from './stores.ts';

export interface RedisStoresOptions {
  url: string;
  /** Prepended to every key, so several events (or test runs) share one Redis. */
  keyPrefix: string;
  logger: Logger;
  /** How long a race's lease lasts without renewal (the holder renews it well before). */
  leaseTtlMs?: number;
  /** Names this process in lease values; default host, pid and a random part. */
  holderId?: string;
}

/** Options of every connection: fail a command after a while rather than queue it for ever. */
export function redisClientOptions(): RedisOptions {
  return {
    // A ping whose append cannot be sent is then answered UNAVAILABLE (send again) instead of hanging.
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    // Reconnect quickly but not in a tight loop while Redis is away.
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  };
}

const keys = (prefix: string, raceId: string) => ({
  pings: `${prefix}:race:${raceId}:pings`,
  runners: `${prefix}:race:${raceId}:runners`,
  checkpoint: `${prefix}:race:${raceId}:checkpoint`,
  alerts: `${prefix}:race:${raceId}:alerts`,
  lease: `${prefix}:race:${raceId}:lease`,
});

// Lua, so that checking a lease and acting on it are one step that no other client can split.
const CLAIM_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;
// A checkpoint is refused unless its writer holds the lease, and when it would lower the reserved
// delta numbers (an older checkpoint arriving late). The race's alerts are written with it when
// they changed (ARGV[4] empty: kept as they are), under a key of their own so that the checkpoint
// this decodes stays small.
const CHECKPOINT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local previous = redis.call('GET', KEYS[3])
if previous then
  local ok, decoded = pcall(cjson.decode, previous)
  if ok and type(decoded) == 'table' and tonumber(decoded.seq) and tonumber(decoded.seq) > tonumber(ARGV[3]) then return 0 end
end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[3], ARGV[2])
if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[4]) end
return 1`;

type ScriptedRedis = Redis & {
  raceClaim(lease: string, holderId: string, ttlMs: number): Promise<number>;
  raceRelease(lease: string, holderId: string): Promise<number>;
  raceCheckpoint(lease: string, runners: string, checkpoint: string, alerts: string, holderId: string, meta: string, seq: string, alertsJson: string, ...pairs: string[]): Promise<number>;
};

function withScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('raceClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
  redis.defineCommand('raceRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  redis.defineCommand('raceCheckpoint', { numberOfKeys: 4, lua: CHECKPOINT_LUA });
  return redis as ScriptedRedis;
}

/** What a log id looks like: "<ms>-<n>", or "<ms>-<n>-<k>" for the k-th ping of an entry. */
const LOG_ID = /^\d+-\d+(-\d+)?$/;


function isLoggedPing(value: unknown): value is LoggedPing {
  const p = value as Partial<LoggedPing> | null;
  return typeof p === 'object' && p !== null && typeof p.participantId === 'string' && typeof p.fix === 'object' && p.fix !== null;
}

/**
 * The pings of one Stream entry. An entry holds the pings one process appended to the race in
 * one turn of its event loop, in order ("batch": a JSON array of { p: ping, t?: tag }); the k-th
 * is "<entry id>-<k>". An entry this version cannot read gives one entry with a null ping.
 */
function parseEntries(raceId: string, streamId: string, fields: string[]): LogEntry[] {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name !== 'batch' && name !== 'ping') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields[i + 1]!);
    } catch {
      break;
    }
    if (name === 'ping') {
      // One ping per entry, as the first Redis version wrote them.
      const tagAt = fields.indexOf('tag');
      return [{ raceId, logId: streamId, ping: isLoggedPing(parsed) ? parsed : null, change: null, tag: tagAt >= 0 ? (fields[tagAt + 1] ?? null) : null }];
    }
    // An empty or unreadable batch still gives one entry, so a reader's cursor moves past it.
    if (!Array.isArray(parsed) || parsed.length === 0) break;
    return parsed.map((item: { p?: unknown; c?: unknown; t?: unknown }, k) => ({
      raceId,
      logId: `${streamId}-${k}`,
      ping: isLoggedPing(item?.p) ? item.p : null,
      change: typeof item?.c === 'object' && item.c !== null ? item.c : null,
      tag: typeof item?.t === 'string' ? item.t : null,
    }));
  }
  return [{ raceId, logId: `${streamId}-0`, ping: null, change: null, tag: null }];
}

interface PendingAppend {
  /** A ping ("p") or an organiser's change ("c"), as it goes into the batch. */
  item: { p: LoggedPing } | { c: object };
  tag: string | null;
  resolve: (logId: string) => void;
  reject: (err: unknown) => void;
}

export class RedisPingLog implements PingLog {
  /** Pings waiting for this turn of the event loop to end, per race: they go out as one entry. */
  private readonly pending = new Map<string, PendingAppend[]>();
  private pendingCount = 0;
  private oldestPendingAtMs = 0;
  private flushScheduled = false;
  /**
   * Under a flood of incoming fixes Node may not reach the end of its turn (where setImmediate
   * runs) for seconds, so a batch also goes out once it holds this many pings or is this old.
   */
  private static readonly FLUSH_AT_PINGS = 200;
  private static readonly FLUSH_AFTER_MS = 5;

  constructor(
    private readonly redis: Redis,
    /** A connection of its own for blocking reads, so they never hold up appends. */
    private readonly reader: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Appends a ping. Pings appended in the same turn of the event loop are written as one Stream
   * entry per race: at thousands of pings a second, one command per ping would cost more than
   * everything else the ping needs. The promise resolves once Redis has the entry.
   */
  append(ping: LoggedPing, tag?: string): Promise<string> {
    return this.enqueue(ping.raceId, { p: ping }, tag);
  }

  appendChange(raceId: string, change: object, tag?: string): Promise<string> {
    return this.enqueue(raceId, { c: change }, tag);
  }

  private enqueue(raceId: string, item: PendingAppend['item'], tag: string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      let queue = this.pending.get(raceId);
      if (!queue) {
        queue = [];
        this.pending.set(raceId, queue);
      }
      queue.push({ item, tag: tag ?? null, resolve, reject });
      const nowMs = performance.now();
      if (this.pendingCount === 0) this.oldestPendingAtMs = nowMs;
      this.pendingCount += 1;
      if (this.pendingCount >= RedisPingLog.FLUSH_AT_PINGS || nowMs - this.oldestPendingAtMs >= RedisPingLog.FLUSH_AFTER_MS) {
        this.flush();
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    if (this.pendingCount === 0) return;
    const batches = [...this.pending];
    this.pending.clear();
    this.pendingCount = 0;
    for (const [raceId, queue] of batches) {
      const body = JSON.stringify(queue.map((a) => (a.tag === null ? a.item : { ...a.item, t: a.tag })));
      this.redis.xadd(keys(this.prefix, raceId).pings, '*', 'batch', body).then(
        (id) => {
          if (id === null) for (const a of queue) a.reject(new Error('XADD returned no id'));
          else queue.forEach((a, k) => a.resolve(`${id}-${k}`));
        },
        (err: unknown) => {
          for (const a of queue) a.reject(err);
        },
      );
    }
  }

  async read(raceId: string): Promise<LoggedPing[]> {
    return (await this.readAfter(raceId, null)).flatMap((e) => (e.ping ? [e.ping] : []));
  }

  async count(raceId: string): Promise<number> {
    // Entries hold several pings each: counted by reading them (a diagnostic, not a hot path).
    return (await this.readAfter(raceId, null)).filter((e) => e.ping !== null).length;
  }

  async trimBefore(raceId: string, logId: string): Promise<number> {
    // MINID keeps the entries at or after the id: the entry holding logId stays whole.
    return this.redis.xtrim(keys(this.prefix, raceId).pings, 'MINID', entryIdOf(logId));
  }

  async lastLogId(raceId: string): Promise<string | null> {
    const [newest] = await this.redis.xrevrange(keys(this.prefix, raceId).pings, '+', '-', 'COUNT', 1);
    if (!newest) return null;
    return parseEntries(raceId, newest[0], newest[1]).at(-1)?.logId ?? null;
  }

  async readAfter(raceId: string, afterLogId: string | null): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    // From the entry that holds afterLogId, for the pings after it in the same entry.
    let from = afterLogId === null ? '-' : entryIdOf(afterLogId);
    // In pages, so a long race does not arrive as one enormous reply.
    for (;;) {
      const page = await this.redis.xrange(keys(this.prefix, raceId).pings, from, '+', 'COUNT', 1000);
      for (const [streamId, fields] of page) {
        for (const entry of parseEntries(raceId, streamId, fields)) {
          if (afterLogId === null || compareLogIds(entry.logId, afterLogId) > 0) out.push(entry);
        }
      }
      if (page.length < 1000) return out;
      from = `(${page[page.length - 1]![0]}`;
    }
  }

  /**
   * New pings after each cursor. A cursor is the last ping of an entry (callers apply what they
   * are given whole), so reading on from its entry misses nothing. `maxPerRace` counts entries.
   */
  async readNew(cursors: ReadonlyMap<string, string | null>, blockMs: number, maxPerRace: number): Promise<LogEntry[]> {
    if (cursors.size === 0) return [];
    const raceOfKey = new Map<string, string>();
    const streamKeys: string[] = [];
    const ids: string[] = [];
    for (const [raceId, after] of cursors) {
      const key = keys(this.prefix, raceId).pings;
      raceOfKey.set(key, raceId);
      streamKeys.push(key);
      ids.push(after === null ? '0-0' : entryIdOf(after));
    }
    const reply = await this.reader.xread('COUNT', maxPerRace, 'BLOCK', blockMs, 'STREAMS', ...streamKeys, ...ids);
    const out: LogEntry[] = [];
    for (const [key, entries] of reply ?? []) {
      const raceId = raceOfKey.get(key);
      if (raceId === undefined) continue;
      for (const [streamId, fields] of entries) out.push(...parseEntries(raceId, streamId, fields));
    }
    return out;
  }
}

/**
 * Runner states as read back. A value another version wrote is checked by the tracker when it
 * restores it; one that is not JSON at all is left out (the runner is found again from their
 * next fix).
 */
function parseStates(all: Record<string, string>): RunnerState[] {
  return Object.values(all).flatMap((json) => {
    try {
      const state = JSON.parse(json) as unknown;
      return typeof state === 'object' && state !== null && typeof (state as RunnerState).participantId === 'string' ? [state as RunnerState] : [];
    } catch {
      return [];
    }
  });
}

/** A JSON array as read back (its items checked by the caller); anything else is an empty one. */
function parseArray(json: string | null): unknown[] {
  if (json === null) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** A checkpoint as read back; an unreadable one is as none (the whole log is applied again). */
function parseCheckpoint(json: string | null): CheckpointMeta | null {
  if (json === null) return null;
  let meta: Partial<CheckpointMeta>;
  try {
    meta = (JSON.parse(json) ?? {}) as Partial<CheckpointMeta>;
  } catch {
    return null;
  }
  const count = (n: unknown) => (typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0);
  return {
    lastLogId: typeof meta.lastLogId === 'string' && LOG_ID.test(meta.lastLogId) ? meta.lastLogId : null,
    seq: count(meta.seq),
    sentSeq: Math.min(count(meta.sentSeq), count(meta.seq)),
    settings: typeof meta.settings === 'object' && meta.settings !== null ? meta.settings : null,
  };
}

export class RedisRunnerStateStore implements RunnerStateStore {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
  ) {}

  async loadRace(raceId: string): Promise<RunnerState[]> {
    return parseStates(await this.redis.hgetall(keys(this.prefix, raceId).runners));
  }

  async loadCheckpointed(raceId: string): Promise<{ meta: CheckpointMeta | null; states: RunnerState[]; alerts: unknown[] }> {
    const k = keys(this.prefix, raceId);
    // MULTI: a checkpoint written between the reads would pair states with the wrong place in the log.
    const replies = await this.redis.multi().get(k.checkpoint).hgetall(k.runners).get(k.alerts).exec();
    const [metaReply, statesReply, alertsReply] = replies ?? [];
    if (!metaReply || !statesReply || !alertsReply || metaReply[0] || statesReply[0] || alertsReply[0]) throw new Error('checkpoint read failed');
    return { meta: parseCheckpoint(metaReply[1] as string | null), states: parseStates(statesReply[1] as Record<string, string>), alerts: parseArray(alertsReply[1] as string | null) };
  }

  async checkpoint(raceId: string, states: readonly RunnerState[], meta: CheckpointMeta, holderId: string, alerts?: readonly object[]): Promise<boolean> {
    // Serialised now, before any wait: the tracker goes on changing its objects.
    const pairs = states.flatMap((s) => [s.participantId, JSON.stringify(s)]);
    const k = keys(this.prefix, raceId);
    const alertsJson = alerts === undefined ? '' : JSON.stringify(alerts);
    return (await this.redis.raceCheckpoint(k.lease, k.runners, k.checkpoint, k.alerts, holderId, JSON.stringify(meta), String(meta.seq), alertsJson, ...pairs)) === 1;
  }

  async loadCheckpoint(raceId: string): Promise<CheckpointMeta | null> {
    return parseCheckpoint(await this.redis.get(keys(this.prefix, raceId).checkpoint));
  }
}

/**
 * The audit (a list, trimmed to the newest MAX_AUDIT_ENTRIES), courses put on races at run time
 * (a hash by digest) and races created at run time (a hash by race id, each numbered in turn).
 * What is read back is checked: Redis is outside the process.
 */
export class RedisEventRecords implements EventRecords {
  private readonly auditKey: string;
  private readonly coursesKey: string;
  private readonly racesKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.auditKey = `${prefix}:event:audit`;
    this.coursesKey = `${prefix}:event:courses`;
    this.racesKey = `${prefix}:event:races`;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.redis.multi().rpush(this.auditKey, JSON.stringify(entry)).ltrim(this.auditKey, -MAX_AUDIT_ENTRIES, -1).exec();
  }

  async audit(): Promise<AuditEntry[]> {
    return (await this.redis.lrange(this.auditKey, 0, -1)).flatMap((json) => {
      const entry = parseObject(json) as Partial<AuditEntry> | null;
      if (!entry || typeof entry.atMs !== 'number' || typeof entry.by !== 'string' || typeof entry.action !== 'string') return [];
      const details = typeof entry.details === 'object' && entry.details !== null ? entry.details : {};
      return [{ atMs: entry.atMs, by: entry.by, action: entry.action, details }];
    });
  }

  async saveCourse(digestHex: string, course: object): Promise<void> {
    await this.redis.hset(this.coursesKey, digestHex, JSON.stringify(course));
  }

  async loadCourse(digestHex: string): Promise<object | null> {
    const json = await this.redis.hget(this.coursesKey, digestHex);
    return json === null ? null : parseObject(json);
  }

  async saveRace(raceId: string, race: object): Promise<boolean> {
    // (Numbered, so every process adds them in the order they were created.)
    const order = await this.redis.incr(`${this.racesKey}:order`);
    return (await this.redis.hsetnx(this.racesKey, raceId, JSON.stringify({ order, race }))) === 1;
  }

  async races(): Promise<Array<{ raceId: string; race: object }>> {
    const all = await this.redis.hgetall(this.racesKey);
    return Object.entries(all)
      .flatMap(([raceId, json]) => {
        const stored = parseObject(json) as { order?: unknown; race?: unknown } | null;
        const race = stored?.race;
        if (typeof race !== 'object' || race === null) return [];
        return [{ raceId, race, order: typeof stored?.order === 'number' ? stored.order : 0 }];
      })
      .sort((a, b) => a.order - b.order)
      .map(({ raceId, race }) => ({ raceId, race }));
  }

  async raceCount(): Promise<number> {
    return this.redis.hlen(this.racesKey);
  }
}

/** JSON that should hold an object; null when it does not. */
function parseObject(json: string): object | null {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

export class RedisRaceLeases implements RaceLeases {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
    readonly holderId: string,
    readonly ttlMs: number,
  ) {}

  async claim(raceIds: readonly string[]): Promise<string[]> {
    const results = await Promise.all(raceIds.map((raceId) => this.redis.raceClaim(keys(this.prefix, raceId).lease, this.holderId, this.ttlMs)));
    return raceIds.filter((_, i) => results[i] === 1);
  }

  async release(raceIds: readonly string[]): Promise<void> {
    await Promise.all(raceIds.map((raceId) => this.redis.raceRelease(keys(this.prefix, raceId).lease, this.holderId)));
  }

  async holder(raceId: string): Promise<string | null> {
    return this.redis.get(keys(this.prefix, raceId).lease);
  }
}

export function defaultHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function createRedisStores(options: RedisStoresOptions): Promise<Stores> {
  // No auto-pipelining: it holds commands until the end of the event loop's turn, which a flood of
  // incoming fixes can put off for seconds (checkpoints and leases would wait with them). The log
  // batches the pings itself.
  const redis = withScripts(new Redis(options.url, redisClientOptions()));
  const reader = new Redis(options.url, redisClientOptions());
  // Without a listener an unreachable Redis would crash the process.
  redis.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis error'));
  reader.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'redis reader error'));
  await Promise.all([redis.connect(), reader.connect()]);
  const holderId = options.holderId ?? defaultHolderId();
  const isHealthy = async (): Promise<boolean> => {
    if (redis.status !== 'ready') return false;
    try {
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  };
  return {
    pingLog: new RedisPingLog(redis, reader, options.keyPrefix),
    runnerStates: new RedisRunnerStateStore(redis, options.keyPrefix),
    leases: new RedisRaceLeases(redis, options.keyPrefix, holderId, options.leaseTtlMs ?? 5000),
    records: new RedisEventRecords(redis, options.keyPrefix),
    agreeDefaultStartMs: async (proposedMs) => {
      const key = `${options.keyPrefix}:event:default-start-ms`;
      await redis.set(key, String(proposedMs), 'NX');
      const agreed = Number(await redis.get(key));
      return Number.isFinite(agreed) && agreed > 0 ? agreed : proposedMs;
    },
    agreeSecret: async (proposed) => {
      const key = `${options.keyPrefix}:event:secret`;
      await redis.set(key, proposed, 'NX');
      return (await redis.get(key)) ?? proposed;
    },
    isHealthy,
    roundTripSec: async () => {
      const startedMs = performance.now();
      await isHealthy();
      return (performance.now() - startedMs) / 1000;
    },
    close: async () => {
      reader.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
