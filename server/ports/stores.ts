// Storage ports. Each stateful dependency is an interface with an in-memory implementation (the
// embedded default) and a Redis one (redis-stores.ts); test/contract/stores.contract.ts runs the
// same assertions against both.
import type { Fix } from '../core/race-tracker.ts';
import { copyRunnerState, type RunnerState } from '../core/runner-state.ts';

/** A fix as it is logged: who sent it and when it arrived, besides the fix itself. */
export interface LoggedPing {
  raceId: string;
  participantId: string;
  receivedAtMs: number;
  fix: Fix;
}

/** A ping, or an organiser's change to the race, with its place in the race's log. */
export interface LogEntry {
  raceId: string;
  /** Position in the race's log: "<ms>-<n>" or "<ms>-<n>-<k>", ordered by `compareLogIds`. */
  logId: string;
  /**
   * The ping; null for a change (below) or for an entry this version cannot read (skipped, but
   * the reader's cursor moves past it).
   */
  ping: LoggedPing | null;
  /** An organiser's change to the race, as the race service wrote it (it checks it on reading). */
  change: object | null;
  /** What the appender passed along (which process, which request), or null. */
  tag: string | null;
}

/**
 * Append-only log of every accepted ping, per race. A ping is appended before it is
 * acknowledged, so an acknowledged ping can always be replayed. The log is also how pings reach
 * the races' runners: every process (one alone, or several on Redis) reads every race's log in
 * its order and applies it.
 */
export interface PingLog {
  /** Appends a ping and returns its log id. */
  append(ping: LoggedPing, tag?: string): Promise<string>;
  /**
   * Appends an organiser's change to the race, in order with its pings, so every process applies
   * it at the same place among them. Returns its log id.
   */
  appendChange(raceId: string, change: object, tag?: string): Promise<string>;
  /** Pings of a race in the order they were appended. */
  read(raceId: string): Promise<LoggedPing[]>;
  count(raceId: string): Promise<number>;
  /** Entries of a race after a log id (null: from the first), in order. */
  readAfter(raceId: string, afterLogId: string | null): Promise<LogEntry[]>;
  /** The id of the newest entry of a race's log; null when it is empty. */
  lastLogId(raceId: string): Promise<string | null>;
  /**
   * Entries appended after each race's cursor (null: from the first), by any process, in log
   * order within each race; waits up to `blockMs` when there are none yet.
   */
  readNew(cursors: ReadonlyMap<string, string | null>, blockMs: number, maxPerRace: number): Promise<LogEntry[]>;
  /**
   * Forgets a race's entries before the one holding `logId` (that entry and the later ones are
   * kept); returns how many entries went. Called behind checkpoints, past the replay's retention.
   */
  trimBefore(raceId: string, logId: string): Promise<number>;
}

/** Where a race's saved runner states stand: what has been applied, and the last delta sent. */
export interface CheckpointMeta {
  /** The newest log entry the saved states include. */
  lastLogId: string | null;
  /**
   * The last delta number the writer has reserved: no delta up to it may be sent by anyone else,
   * so a new writer continues after it.
   */
  seq: number;
  /** The last delta number the writer had sent when it wrote this (what snapshots may carry). */
  sentSeq: number;
  /**
   * The race's own settings as organisers' changes left them (name, start, who may watch), as
   * the race service wrote them; null when nothing was changed.
   */
  settings: object | null;
}

/** Latest state of each runner, so another process (or this one, restarted) can continue. */
export interface RunnerStateStore {
  loadRace(raceId: string): Promise<RunnerState[]>;
  /**
   * Saves runner states with where they stand, in one step, only while `holderId` holds the
   * race's lease (so a process that lost its lease cannot overwrite its successor's work).
   * Returns false when it does not hold it.
   */
  checkpoint(raceId: string, states: readonly RunnerState[], meta: CheckpointMeta, holderId: string, alerts?: readonly object[]): Promise<boolean>;
  loadCheckpoint(raceId: string): Promise<CheckpointMeta | null>;
  /**
   * The checkpoint, the runner states it describes and the race's alerts, read in one step (no
   * checkpoint between). The alerts are as a checkpoint last gave them (`checkpoint`'s `alerts`:
   * given only when they changed, so thousands of them are not written again every second);
   * unchecked, as read.
   */
  loadCheckpointed(raceId: string): Promise<{ meta: CheckpointMeta | null; states: RunnerState[]; alerts: unknown[] }>;
}

/**
 * One writer per race across processes: a lease that expires unless renewed. Its holder alone
 * sends the race's deltas and saves its checkpoints.
 */
export interface RaceLeases {
  /** Who this process is, as lease values name it. */
  readonly holderId: string;
  /** How long a lease lasts without renewal. */
  readonly ttlMs: number;
  /** Takes each free lease and renews those held; returns the races held now. */
  claim(raceIds: readonly string[]): Promise<string[]>;
  release(raceIds: readonly string[]): Promise<void>;
  holder(raceId: string): Promise<string | null>;
}

/** A change an organiser made: who, when, what. */
export interface AuditEntry {
  atMs: number;
  by: string;
  action: string;
  details: Record<string, unknown>;
}

/**
 * What an event gains while it runs, beyond its races' logs: the audit of organisers' actions,
 * the courses put on races, and the races created. Shared by every process on the same stores.
 */
export interface EventRecords {
  /** Appends to the audit; the newest MAX_AUDIT_ENTRIES are kept. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** The audit, oldest first. */
  audit(): Promise<AuditEntry[]>;
  /**
   * A course put on a race at run time, under its digest: a checkpoint names the course in force
   * by digest, so a restarted process can build it even once the log entry that carried it is trimmed.
   */
  saveCourse(digestHex: string, course: object): Promise<void>;
  loadCourse(digestHex: string): Promise<object | null>;
  /** A race created at run time, as its organiser sent it; false when the id is taken already. */
  saveRace(raceId: string, race: object): Promise<boolean>;
  /** Every race created at run time, in the order they were created. */
  races(): Promise<Array<{ raceId: string; race: object }>>;
  /** How many races were created at run time (cheap: a process polls it to pick up others'). */
  raceCount(): Promise<number>;
}

/** Audit entries kept, newest; older ones are still in the server's log lines. */
export const MAX_AUDIT_ENTRIES = 10_000;

export class MemoryEventRecords implements EventRecords {
  private readonly entries: AuditEntry[] = [];
  private readonly courses = new Map<string, object>();
  private readonly created = new Map<string, object>();

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.entries.push(structuredClone(entry));
    if (this.entries.length > MAX_AUDIT_ENTRIES) this.entries.shift();
  }

  async audit(): Promise<AuditEntry[]> {
    return structuredClone(this.entries);
  }

  async saveCourse(digestHex: string, course: object): Promise<void> {
    this.courses.set(digestHex, structuredClone(course));
  }

  async loadCourse(digestHex: string): Promise<object | null> {
    const course = this.courses.get(digestHex);
    return course ? structuredClone(course) : null;
  }

  async saveRace(raceId: string, race: object): Promise<boolean> {
    if (this.created.has(raceId)) return false;
    this.created.set(raceId, structuredClone(race));
    return true;
  }

  async races(): Promise<Array<{ raceId: string; race: object }>> {
    return [...this.created].map(([raceId, race]) => ({ raceId, race: structuredClone(race) }));
  }

  async raceCount(): Promise<number> {
    return this.created.size;
  }
}

export interface Stores {
  pingLog: PingLog;
  runnerStates: RunnerStateStore;
  leases: RaceLeases;
  records: EventRecords;
  /**
   * The start time of races that set none, agreed by every process on the stores: the first one
   * to ask sets it.
   */
  agreeDefaultStartMs(proposedMs: number): Promise<number>;
  /**
   * The event's secret when none is configured (LINK_SECRET), agreed the same way: what signs
   * live links and derives the device tokens the event file gives no participant, so that both
   * hold on every process and after restarts. In memory it is the one proposed.
   */
  agreeSecret(proposed: string): Promise<string>;
  /** Whether the stores answer now (for /healthz). */
  isHealthy(): Promise<boolean>;
  /**
   * How long one round trip to the stores takes now, in seconds (for /metrics); null when they
   * are in this process's memory, where there is no trip to time.
   */
  roundTripSec(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * Orders two log ids: "<ms>-<n>" as Redis Stream ids, with an optional "-<k>" for the k-th ping
 * of an entry holding several; null comes before every id.
 */
export function compareLogIds(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  // (Part by part, without splitting: every log entry applied is compared, thousands a second.)
  return logIdPart(a, 0) - logIdPart(b, 0) || logIdPart(a, 1) - logIdPart(b, 1) || logIdPart(a, 2) - logIdPart(b, 2);
}

/** The `index`-th number of a log id ("<ms>-<n>" or "<ms>-<n>-<k>"); 0 when it has no such part. */
function logIdPart(logId: string, index: number): number {
  let from = 0;
  for (let k = 0; k < index; k++) {
    const dash = logId.indexOf('-', from);
    if (dash === -1) return 0;
    from = dash + 1;
  }
  const end = logId.indexOf('-', from);
  return Number(end === -1 ? logId.slice(from) : logId.slice(from, end));
}

export class MemoryPingLog implements PingLog {
  private readonly byRace = new Map<string, LogEntry[]>();
  /** Ids are "<ms>-<n>" as on Redis: the time never goes back (lastMs), `n` always goes up. */
  private lastMs = 0;
  private nextN = 1;
  private readonly waiting = new Set<() => void>();
  private wakeScheduled = false;
  private total = 0;
  /** Pings forgotten to stay within the bound, for /metrics and the logs. */
  forgotten = 0;

  /**
   * @param maxEntries entries kept, all races together (about 300 bytes each: 1,000,000 is about
   *   300 MB). Past it the oldest are forgotten, counted in `forgotten`. The log's reader (the
   *   coordinator) takes each entry as it comes, so what is forgotten was applied long before;
   *   what goes is the replay's oldest part, and a restart in memory starts afresh anyway (the
   *   Redis log keeps everything: docs/SECURITY.md).
   * @param onForgotten told each time entries are forgotten, with how many so far.
   */
  constructor(
    private readonly maxEntries = 1_000_000,
    private readonly onForgotten: (forgottenSoFar: number) => void = () => {},
  ) {}

  async append(ping: LoggedPing, tag?: string): Promise<string> {
    const logId = this.push({ raceId: ping.raceId, logId: '', ping: { ...ping, fix: { ...ping.fix } }, change: null, tag: tag ?? null });
    // Trim in batches so a full log does not shift a million entries on every ping.
    if (this.total > this.maxEntries * 1.1) this.trim();
    return logId;
  }

  async appendChange(raceId: string, change: object, tag?: string): Promise<string> {
    return this.push({ raceId, logId: '', ping: null, change: structuredClone(change), tag: tag ?? null });
  }

  /** Gives the entry the next id, keeps it, and wakes the readers waiting for new entries. */
  private push(entry: LogEntry): string {
    let entries = this.byRace.get(entry.raceId);
    if (!entries) {
      entries = [];
      this.byRace.set(entry.raceId, entries);
    }
    this.lastMs = Math.max(this.lastMs, Date.now());
    entry.logId = `${this.lastMs}-${this.nextN++}`;
    entries.push(entry);
    this.total += 1;
    if (this.waiting.size > 0 && !this.wakeScheduled) {
      // Readers are woken once for all that is appended in this turn of the event loop, as a
      // blocking read on Redis returns what arrived meanwhile: woken for each entry, the reader
      // went round its loop (and set a timer) once a ping.
      this.wakeScheduled = true;
      setImmediate(() => {
        this.wakeScheduled = false;
        for (const wake of this.waiting) wake();
      });
    }
    return entry.logId;
  }

  /** Forgets the oldest entries, whichever races they belong to, down to the bound. */
  private trim(): void {
    let excess = this.total - this.maxEntries;
    while (excess > 0) {
      let oldest: LogEntry[] | null = null;
      for (const entries of this.byRace.values()) {
        if (entries.length > 0 && (oldest === null || compareLogIds(entries[0]!.logId, oldest[0]!.logId) < 0)) oldest = entries;
      }
      if (!oldest) break;
      const count = Math.min(excess, oldest.length, 10_000);
      oldest.splice(0, count);
      excess -= count;
      this.total -= count;
      this.forgotten += count;
    }
    this.onForgotten(this.forgotten);
  }

  async read(raceId: string): Promise<LoggedPing[]> {
    return structuredClone((this.byRace.get(raceId) ?? []).flatMap((e) => (e.ping ? [e.ping] : [])));
  }

  async count(raceId: string): Promise<number> {
    return (this.byRace.get(raceId) ?? []).filter((e) => e.ping !== null).length;
  }

  async lastLogId(raceId: string): Promise<string | null> {
    return this.byRace.get(raceId)?.at(-1)?.logId ?? null;
  }

  async readAfter(raceId: string, afterLogId: string | null): Promise<LogEntry[]> {
    const entries = this.byRace.get(raceId) ?? [];
    return entries.slice(firstAfter(entries, afterLogId)).map(copyEntry);
  }

  async trimBefore(raceId: string, logId: string): Promise<number> {
    const entries = this.byRace.get(raceId);
    if (!entries) return 0;
    // (An entry's pings share its "<ms>-<n>": the whole entry of `logId` stays.)
    const keepFrom = entryIdOf(logId);
    const count = entries.findIndex((e) => compareLogIds(entryIdOf(e.logId), keepFrom) >= 0);
    const gone = count === -1 ? entries.length : count;
    entries.splice(0, gone);
    this.total -= gone;
    return gone;
  }

  async readNew(cursors: ReadonlyMap<string, string | null>, blockMs: number, maxPerRace: number): Promise<LogEntry[]> {
    // Called once a turn of the event loop while pings come in: a race with nothing new costs one
    // comparison of strings, one with a few new entries a few more (firstAfter).
    const collect = (): LogEntry[] => {
      const found: LogEntry[] = [];
      for (const [raceId, after] of cursors) {
        const entries = this.byRace.get(raceId);
        if (!entries || entries.length === 0 || entries[entries.length - 1]!.logId === after) continue;
        const from = firstAfter(entries, after);
        const to = Math.min(entries.length, from + maxPerRace);
        for (let i = from; i < to; i++) found.push(copyEntry(entries[i]!));
      }
      return found;
    };
    let found = collect();
    if (found.length === 0 && blockMs > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.delete(wake);
          resolve();
        };
        // (A reader waiting keeps no process alive by itself: a stopped server exits at once.)
        const timer = setTimeout(wake, blockMs).unref();
        this.waiting.add(wake);
      });
      found = collect();
    }
    return found;
  }
}

/** Where the entries after `afterLogId` begin in a race's entries (in log order). */
function firstAfter(entries: readonly LogEntry[], afterLogId: string | null): number {
  if (afterLogId === null) return 0;
  // A reader's cursor is mostly one of the last few entries: found by looking back from the end.
  for (let i = entries.length - 1; i >= 0 && i >= entries.length - 16; i--) if (entries[i]!.logId === afterLogId) return i + 1;
  // Else (further back, or no entry's id: trimmed, or another log's) a binary search.
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareLogIds(entries[middle]!.logId, afterLogId) > 0) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** A reader's own copy of an entry (what it does with it leaves the log as it was). */
function copyEntry(entry: LogEntry): LogEntry {
  return {
    ...entry,
    ping: entry.ping ? { ...entry.ping, fix: { ...entry.ping.fix } } : null,
    change: entry.change === null ? null : structuredClone(entry.change),
  };
}

export class MemoryRunnerStateStore implements RunnerStateStore {
  private readonly byRace = new Map<string, Map<string, RunnerState>>();
  private readonly checkpoints = new Map<string, CheckpointMeta>();
  private readonly alerts = new Map<string, unknown[]>();

  constructor(private readonly leases: RaceLeases) {}

  /** Keeps `state`, a copy already (the tracker keeps mutating its own object). */
  private put(raceId: string, state: RunnerState): void {
    let states = this.byRace.get(raceId);
    if (!states) {
      states = new Map();
      this.byRace.set(raceId, states);
    }
    states.set(state.participantId, state);
  }

  async loadRace(raceId: string): Promise<RunnerState[]> {
    return [...(this.byRace.get(raceId)?.values() ?? [])].map(copyRunnerState);
  }

  async checkpoint(raceId: string, states: readonly RunnerState[], meta: CheckpointMeta, holderId: string, alerts?: readonly object[]): Promise<boolean> {
    // Copied before any wait, as the Redis store serialises before it sends.
    const copies = states.map(copyRunnerState);
    const alertCopies = alerts === undefined ? undefined : structuredClone([...alerts]);
    if ((await this.leases.holder(raceId)) !== holderId) return false;
    // Never lowers the reserved delta numbers (an older checkpoint arriving late).
    if ((this.checkpoints.get(raceId)?.seq ?? -1) > meta.seq) return false;
    for (const state of copies) this.put(raceId, state);
    this.checkpoints.set(raceId, structuredClone(meta));
    if (alertCopies !== undefined) this.alerts.set(raceId, alertCopies);
    return true;
  }

  async loadCheckpoint(raceId: string): Promise<CheckpointMeta | null> {
    const meta = this.checkpoints.get(raceId);
    return meta ? structuredClone(meta) : null;
  }

  async loadCheckpointed(raceId: string): Promise<{ meta: CheckpointMeta | null; states: RunnerState[]; alerts: unknown[] }> {
    // Synchronous underneath: nothing can come between the reads.
    return { meta: await this.loadCheckpoint(raceId), states: await this.loadRace(raceId), alerts: structuredClone(this.alerts.get(raceId) ?? []) };
  }
}

/**
 * Leases in this process's memory. A lease is held by whoever claimed it first until it expires,
 * as on Redis: a server alone on its stores claims every race at its first renewal and keeps them;
 * several race services sharing the stores (`forHolder`, createSharedMemoryStores) contend for them.
 */
export class MemoryRaceLeases implements RaceLeases {
  constructor(
    readonly holderId = 'this-process',
    readonly ttlMs = 5000,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly held = new Map<string, { holderId: string; untilMs: number }>(),
  ) {}

  /** Another process's view of the same leases (for tests). */
  forHolder(holderId: string): MemoryRaceLeases {
    return new MemoryRaceLeases(holderId, this.ttlMs, this.nowMs, this.held);
  }

  async claim(raceIds: readonly string[]): Promise<string[]> {
    const now = this.nowMs();
    return raceIds.filter((raceId) => {
      const lease = this.held.get(raceId);
      if (lease && lease.untilMs > now && lease.holderId !== this.holderId) return false;
      this.held.set(raceId, { holderId: this.holderId, untilMs: now + this.ttlMs });
      return true;
    });
  }

  async release(raceIds: readonly string[]): Promise<void> {
    for (const raceId of raceIds) if (this.held.get(raceId)?.holderId === this.holderId) this.held.delete(raceId);
  }

  async holder(raceId: string): Promise<string | null> {
    const lease = this.held.get(raceId);
    return lease && lease.untilMs > this.nowMs() ? lease.holderId : null;
  }
}

export interface MemoryStoresOptions {
  /** How long a lease lasts without renewal (default 5 s, as on Redis). */
  leaseTtlMs?: number;
  /** Log entries kept, all races together (MemoryPingLog). */
  maxLogEntries?: number;
  onLogForgotten?: (forgottenSoFar: number) => void;
}

/**
 * Stores in this process's memory, for a server alone on them (the default without REDIS_URL).
 * It runs as a process on Redis does: fixes and organisers' changes go through the race's log
 * and are applied as they are read back, the race's writer (this process, which holds every
 * lease) checkpoints the runners and reserves delta numbers. A restart starts afresh.
 */
export function createMemoryStores(options: MemoryStoresOptions & { holderId?: string } = {}): Stores {
  return createSharedMemoryStores(options)(options.holderId ?? 'this-process');
}

/**
 * Stores in memory that several race services in one process share as if each were its own
 * process on Redis: fixes through the log and read back by every one, one writer per race by
 * lease, checkpoints with reserved delta numbers, take-over. For tests of several processes
 * without Redis. Each call of the returned function is one "process", named by its holder id.
 */
export function createSharedMemoryStores(options: MemoryStoresOptions = {}): (holderId: string) => Stores {
  const leases = new MemoryRaceLeases('nobody', options.leaseTtlMs);
  const pingLog = new MemoryPingLog(options.maxLogEntries, options.onLogForgotten);
  const runnerStates = new MemoryRunnerStateStore(leases);
  const records = new MemoryEventRecords();
  let defaultStartMs: number | null = null;
  let secret: string | null = null;
  return (holderId) => ({
    pingLog,
    runnerStates,
    leases: leases.forHolder(holderId),
    records,
    agreeDefaultStartMs: async (proposedMs) => (defaultStartMs ??= proposedMs),
    agreeSecret: async (proposed) => (secret ??= proposed),
    isHealthy: async () => true,
    roundTripSec: async () => null,
    close: async () => {},
  });
}

/** The entry part ("<ms>-<n>") of a log id ("<ms>-<n>" or "<ms>-<n>-<k>"). */
export function entryIdOf(logId: string): string {
  const parts = logId.split('-');
  return parts.length > 2 ? `${parts[0]}-${parts[1]}` : logId;
}
