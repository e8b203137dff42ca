// Which races this process writes, as one part of the race service, and a process becoming a
// race's writer: it waits until its reading of the race's log has caught up with the race's last
// checkpoint, rebuilds the runners from that checkpoint and every log entry after it (the engine
// is deterministic, so they are exactly where the previous writer had them, or further on), and
// from then on applies the race's pings. Kept apart from the ping pipeline (race-service.ts)
// because it is the one place a race's runners change hands between processes; which process
// holds a race's lease is cluster.ts.
import type { PositionAccepted } from '../shared/protocol.ts';
import type { Course } from './core/course.ts';
import type { Logger } from './logger.ts';
import { compareLogIds, type LogEntry, type Stores } from './ports/stores.ts';
import type { RaceCheckpoints } from './race-checkpoints.ts';
import { raceEditSchema, type CourseRecord } from './race-edits.ts';
import type { RaceEntry } from './race-service.ts';

export interface RaceTakeOverDeps {
  stores: Stores;
  logger: Logger;
  race(raceId: string): RaceEntry | undefined;
  /** The newest entry of a race's log applied here. */
  appliedLogId(raceId: string): string | null;
  /** Applies a log entry new to this process, its ping included (one that cannot be applied is logged and passed over). */
  applyLogged(entry: LogEntry): void;
  /** A logged fix applied to its runner, checked again as at the edge. */
  applyPing(race: RaceEntry, ping: NonNullable<LogEntry['ping']>): PositionAccepted | null;
  /** A course from its record (null, logged, when it cannot be built), and putting it on a race. */
  courseFrom(record: CourseRecord, raceId: string): Course | null;
  installCourse(race: RaceEntry, course: Course, digestHex: string): void;
  /** The race's clock for silence runs on from now (its runners were rebuilt). */
  restartRaceClock(raceId: string): void;
  checkpoints: Pick<RaceCheckpoints, 'markUnsaved' | 'forgetReserved'>;
}

export class RaceTakeOver {
  /**
   * Races whose pings this process applies: those it writes, from the moment it has taken one
   * over (takeOver) until it hears it no longer holds it (release). The others' runners are
   * kept as their writers publish them (race-mirror.ts), so each fix is applied by
   * one process, not by all of them. (A process alone on its stores writes every race.)
   */
  private readonly pingAppliers = new Set<string>();
  /** Races being taken over here, with the log entries read meanwhile (takeOver). */
  private readonly takingOver = new Map<string, LogEntry[]>();

  constructor(private readonly deps: RaceTakeOverDeps) {}

  /** Whether this process applies the race's pings (it writes the race). */
  applies(raceId: string): boolean {
    return this.pingAppliers.has(raceId);
  }

  /** A log entry the log-follow loop read: kept for a take-over of its race under way. */
  noteRead(entry: LogEntry): void {
    this.takingOver.get(entry.raceId)?.push(entry);
  }

  /** This process no longer writes the race (its lease went to another): it stops applying its pings. */
  release(raceId: string): void {
    this.pingAppliers.delete(raceId);
  }

  /**
   * This process becomes the race's writer: it rebuilds the race's runners from the last
   * checkpoint and every log entry after it (the engine is deterministic, so they are exactly
   * where the previous writer had them, or further on), then applies the race's pings from here
   * on, and its deltas continue after the previous writer's reserved numbers (so nobody is shown
   * going back and no number is sent twice).
   */
  async takeOver(raceId: string): Promise<boolean> {
    const { stores, checkpoints } = this.deps;
    const race = this.deps.race(raceId);
    if (!race) return false;
    // Entries the log-follow loop reads meanwhile: their organisers' changes are applied as usual;
    // what they do to the runners is done below, once the runners are rebuilt.
    const backlog: LogEntry[] = [];
    this.takingOver.set(raceId, backlog);
    try {
      const { meta, states } = await stores.runnerStates.loadCheckpointed(raceId);
      // The whole log as it is now: the previous writer may have sent deltas from fixes logged after the checkpoint.
      const entries = await stores.pingLog.readAfter(raceId, meta?.lastLogId ?? null);
      // Not caught up with the checkpoint yet (this process's reads of the log were behind): the
      // organisers' changes before it would be missed. Tried again at the next renewal.
      if (compareLogIds(this.deps.appliedLogId(raceId), meta?.lastLogId ?? null) < 0) return false;
      // From here to the end nothing waits.
      race.tracker.resetRunners();
      for (const state of states) race.tracker.restoreRunner(state);
      let lastRead = meta?.lastLogId ?? null;
      for (const entry of entries) {
        // New to this process: applied whole. Seen already: its organisers' change is applied, so
        // only what it does to the runners is done again, on the rebuilt runners.
        if (compareLogIds(entry.logId, this.deps.appliedLogId(raceId)) > 0) this.deps.applyLogged(entry);
        else this.reapplyToRunners(race, entry);
        lastRead = entry.logId;
      }
      for (const entry of backlog) if (compareLogIds(entry.logId, lastRead) > 0) this.reapplyToRunners(race, entry);
      this.pingAppliers.add(raceId);
      // (The tracker now: a course entry among those applied replaces it.)
      const { tracker } = race;
      tracker.continueSequenceFrom(meta?.seq ?? 0);
      // Numbers this process reserved before (if it wrote the race once) may have been used since.
      checkpoints.forgetReserved(raceId);
      if (tracker.newestFixAtMs !== null) this.deps.restartRaceClock(raceId);
      // Every runner goes into the next checkpoint: the rebuilt states are this writer's from now on.
      for (const p of tracker.participants) checkpoints.markUnsaved(raceId, p.participantId);
      return true;
    } finally {
      this.takingOver.delete(raceId);
    }
  }

  /**
   * What a log entry this process has applied already does to the race's runners, done again on
   * the rebuilt runners (a take-over): fixes, and organisers' changes to runners. An entry that
   * cannot be applied is logged and passed over.
   */
  private reapplyToRunners(race: RaceEntry, entry: LogEntry): void {
    try {
      if (entry.ping) {
        this.deps.applyPing(race, entry.ping);
        return;
      }
      const edit = raceEditSchema.safeParse(entry.change);
      if (!edit.success) return;
      const change = edit.data;
      const { tracker } = race;
      if (change.kind === 'lap') tracker.setLap(change.participantId, change.lap);
      else if (change.kind === 'outcome') tracker.setOutcome(change.participantId, change.outcome);
      else if (change.kind === 'silence') tracker.finishBySilence(change.participantId, change.atMs);
      else if (change.kind === 'join') {
        // Afresh on this race (a checkpoint from before may hold an earlier stint here), with the outcome brought.
        tracker.resetRunner(change.participant.participantId);
        if (change.outcome) tracker.setOutcome(change.participant.participantId, change.outcome);
      } else if (change.kind === 'course') {
        // The runners rebuilt so far carried over to the course, as the writer carried them.
        const course = this.deps.courseFrom(change.course, race.raceId);
        if (course) this.deps.installCourse(race, course, change.digestHex);
      }
    } catch (cause) {
      this.deps.logger.error({ err: cause, raceId: race.raceId, logId: entry.logId }, 'log entry could not be applied again');
    }
  }
}
