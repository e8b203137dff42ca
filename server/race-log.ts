// A process's side of the races' shared logs: what it has read of each race's log, applying each
// entry in log order (organisers' changes on every process, pings on the race's writer only),
// answering whoever here waits for their own entry (log-waiters.ts), and the race clock that
// silence is judged by. Moved out of RaceService, which keeps a thin front over it.
import type { PositionAccepted } from '../shared/protocol.ts';
import type { Clock } from './core/clock.ts';
import { checkFix, type FixLimits } from './ingest/fix.ts';
import type { Logger } from './logger.ts';
import { LogWaiters, type AppliedResult } from './log-waiters.ts';
import { compareLogIds, type LogEntry } from './ports/stores.ts';
import { raceEditSchema, type RaceEdit } from './race-edits.ts';
import type { RaceEntry } from './race-service.ts';

export interface RaceLogDeps {
  clock: Clock;
  logger: Logger;
  fixLimits: FixLimits;
  /** This process's lease-holder name: the tags of its own entries start with it. */
  holderId: string;
  race(raceId: string): RaceEntry | undefined;
  /** Whether this process applies the race's pings (it writes the race). */
  appliesPings(raceId: string): boolean;
  /** Every entry read, for a take-over under way (race-takeover.ts). */
  noteRead(entry: LogEntry): void;
  /** An organiser's change applied (race-changes.ts); `ownEntry`: it came through this process. */
  applyEdit(race: RaceEntry, edit: RaceEdit, ownEntry: boolean): boolean;
  /** A runner whose state changed, for the next checkpoint. */
  markUnsaved(raceId: string, participantId: string): void;
}

export class RaceLog {
  /** Pings and changes of this process on their way through the log. */
  readonly waiters: LogWaiters;
  /** Fixes stored (acknowledged as accepted) through this process, and fixes applied to runners here: /metrics. */
  readonly fixCounts = { stored: 0, applied: 0 };
  /** Per race: the newest log entry applied here. */
  private readonly appliedLogId = new Map<string, string | null>();
  /** Per race: when (by this process's clock) its newest fix arrived, for the race's clock. */
  private readonly newestArrivalMs = new Map<string, number>();

  constructor(private readonly deps: RaceLogDeps) {
    this.waiters = new LogWaiters(deps.holderId);
  }

  /** The newest entry of a race's log this process has applied. */
  appliedLogIdOf(raceId: string): string | null {
    return this.appliedLogId.get(raceId) ?? null;
  }

  /** Where a race's log is read from (a checkpoint's place, at start). */
  startFrom(raceId: string, logId: string | null): void {
    this.appliedLogId.set(raceId, logId);
  }

  /**
   * Applies a log entry; one that cannot be applied is logged and passed over, not the rest with
   * it. `applyPings`: whether its ping is applied to the race's runners (by default, when this
   * process writes the race; see applyLogged).
   */
  applyLoggedSafely(entry: LogEntry, applyPings = this.deps.appliesPings(entry.raceId)): void {
    try {
      this.applyLogged(entry, applyPings);
    } catch (cause) {
      this.deps.logger.error({ err: cause, raceId: entry.raceId, logId: entry.logId }, 'log entry could not be applied');
      this.waiters.resolve(entry.tag, null);
    }
  }

  /**
   * Applies one entry of a race's log, as every process does in log order, and answers
   * the ping's sender when it is waiting here. Organisers' changes are applied by every process;
   * a ping only by the race's writer (`applyPings`): elsewhere its sender is answered with where
   * the runner is as the writer last published. An entry is checked again, as at the edge: the
   * log is outside this process.
   */
  applyLogged(entry: LogEntry, applyPings = this.deps.appliesPings(entry.raceId)): void {
    if (compareLogIds(entry.logId, this.appliedLogId.get(entry.raceId) ?? null) <= 0) return; // seen already
    this.appliedLogId.set(entry.raceId, entry.logId);
    this.deps.noteRead(entry);
    const waitedHere = this.waiters.has(entry.tag);
    const race = this.deps.race(entry.raceId);
    if (entry.change !== null) {
      const edit = raceEditSchema.safeParse(entry.change);
      // Applied on every process, whether or not someone here waits for it.
      // (The process the change came through records it in the audit, once.)
      const applied = race !== undefined && edit.success && this.deps.applyEdit(race, edit.data, this.waiters.isOwn(entry.tag));
      this.waiters.resolve(entry.tag, applied);
      return;
    }
    const ping = entry.ping;
    if (!applyPings) {
      this.waiters.resolve(entry.tag, null);
      return;
    }
    const newestBeforeMs = race?.tracker.newestFixAtMs ?? null;
    // (This process checked its own pings at the edge a moment ago.)
    const result = race && ping ? this.applyPing(race, ping, waitedHere) : null;
    if (race && ping && result) {
      if (race.tracker.newestFixAtMs !== newestBeforeMs) this.restartClock(race.raceId);
      // Even a fix that moves no one can change the state (battery, when last heard from).
      this.deps.markUnsaved(race.raceId, ping.participantId);
    }
    this.waiters.resolve(entry.tag, result);
  }

  /**
   * A logged fix applied to its runner, checked again as at the edge unless `checkedHere` (the
   * log is outside this process); null when it is no fix of a runner in the race.
   */
  applyPing(race: RaceEntry, ping: NonNullable<LogEntry['ping']>, checkedHere: boolean): PositionAccepted | null {
    const checked = checkedHere ? { ok: true as const, fix: ping.fix } : checkFix(ping.fix, ping.receivedAtMs, this.deps.fixLimits);
    if (!checked.ok || !race.tracker.hasParticipant(ping.participantId)) return null;
    this.fixCounts.applied += 1;
    return race.tracker.applyFix(ping.participantId, checked.fix);
  }

  /**
   * Appends to a race's log and waits until this process has read the entry back and
   * applied it (or for LogWaiters.APPLY_WAIT_MS at most: then the result is null).
   */
  async through(raceId: string, append: (tag: string) => Promise<string>): Promise<{ stored: false } | { stored: true; result: AppliedResult }> {
    const { tag, applied } = this.waiters.wait();
    try {
      await append(tag);
    } catch (cause) {
      this.waiters.forget(tag);
      this.deps.logger.error({ err: cause, raceId }, 'log append failed');
      return { stored: false };
    }
    return { stored: true, result: await applied };
  }

  /**
   * The race's own clock for silence: the newest fix any of its runners recorded, moved on by
   * the time since it arrived. In a live race that is the time now; a race replayed from its
   * log, or sent in a burst, is judged by its own time and not by the wall clock.
   */
  raceClockMs(race: RaceEntry): number | null {
    const newestMs = race.tracker.newestFixAtMs;
    const arrivedAtMs = this.newestArrivalMs.get(race.raceId);
    if (newestMs === null || arrivedAtMs === undefined) return null;
    const nowMs = this.deps.clock.nowMs();
    // (Never ahead of this server's clock: one phone whose clock runs fast must not make everyone silent early.)
    return Math.min(nowMs, newestMs + Math.max(0, nowMs - arrivedAtMs));
  }

  /** The race's clock runs on from now (its newest fix arrived now, or its runners were restored). */
  restartClock(raceId: string): void {
    this.newestArrivalMs.set(raceId, this.deps.clock.nowMs());
  }
}
