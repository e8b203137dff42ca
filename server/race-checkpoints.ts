// The races' checkpoints, as one part of the race service: which runners changed since the last
// one, saving them with the race's settings and where they stand in its log, reserving the delta
// numbers the race's writer may send (in blocks, in the same checkpoint, so that whoever continues
// the race never sends a number again), and reading a checkpoint back when a process starts.
// Kept apart from the ping pipeline (race-service.ts) because it is the one part that decides
// what survives a restart or a change of writer; a checkpoint is fenced by the race's lease.
import type { Participant } from './core/race-tracker.ts';
import type { Course } from './core/course.ts';
import type { DeviceCredentials } from './device-credentials.ts';
import { alertSchema } from './alert-book.ts';
import type { Logger } from './logger.ts';
import type { CheckpointMeta, Stores } from './ports/stores.ts';
import type { RunnerState } from './core/runner-state.ts';
import { LogTrimmer, type LogRetention } from './log-trimmer.ts';
import type { RaceAlerts } from './race-alerts.ts';
import { courseRecordSchema, raceSettingsSchema, type CourseRecord, type RaceSettings } from './race-edits.ts';
import type { RaceEntry, TakenDelta } from './race-service.ts';
import type { RoadSections } from './road-sections.ts';
import { describeIssues } from './validation.ts';

export interface RaceCheckpointsDeps {
  stores: Stores;
  logger: Logger;
  /** How long the log keeps pings behind the checkpoints (log-trimmer.ts). */
  logRetention?: LogRetention | undefined;
  /** What a race's settings are made of besides the race itself. */
  sections: RoadSections;
  credentials: DeviceCredentials;
  alerts: RaceAlerts<RaceEntry>;
  /** The newest entry of a race's log applied here: where a checkpoint stands. */
  appliedLogId(raceId: string): string | null;
  /** Roster moves a checkpoint holds, replayed as the log applied them. */
  join(race: RaceEntry, participant: Participant, outcome: 'dnf' | 'dsq' | undefined): boolean;
  leave(race: RaceEntry, participantId: string): boolean;
  /** A course from its record (null, logged, when it cannot be built), and putting it on a race. */
  courseFrom(record: CourseRecord, raceId: string): Course | null;
  installCourse(race: RaceEntry, course: Course, digestHex: string): void;
}

/** What a race's checkpoint held, once its settings and course are put back on the race. */
export interface Restored {
  meta: CheckpointMeta | null;
  states: RunnerState[];
}

/** Alerts read back from a race's checkpoint, at most (a checkpoint writes up to 10,050). */
const MAX_ALERTS_RESTORED = 20_000;

export class RaceCheckpoints {
  /** Delta numbers reserved at a time (about 100 s of ticks). */
  static readonly SEQ_BLOCK = 100;
  /** Per race: the runners changed since the last checkpoint. */
  private readonly unsaved = new Map<string, Set<string>>();
  /** Per race written here: the highest delta number a checkpoint has reserved, and whether one is being written. */
  private readonly reservedSeq = new Map<string, number>();
  private readonly checkpointing = new Set<string>();
  /**
   * Races whose alerts, as this process last checkpointed them, are still what it holds: their
   * next checkpoint leaves the saved alerts as they are. A race with thousands of alerts (every
   * runner silent and low on battery) would otherwise write them all every second.
   */
  private readonly alertsSaved = new Set<string>();
  private readonly logTrimmer: LogTrimmer;

  constructor(private readonly deps: RaceCheckpointsDeps) {
    this.logTrimmer = new LogTrimmer(deps.stores.pingLog, deps.logger, deps.logRetention);
    deps.alerts.onChange((alert) => this.alertsSaved.delete(alert.raceId));
  }

  /** A runner whose state changed: saved with the race's next checkpoint. */
  markUnsaved(raceId: string, participantId: string): void {
    let set = this.unsaved.get(raceId);
    if (!set) {
      set = new Set();
      this.unsaved.set(raceId, set);
    }
    set.add(participantId);
  }

  /** Numbers this process reserved before (if it wrote the race once) may have been used since: a new writer reserves afresh. */
  forgetReserved(raceId: string): void {
    this.reservedSeq.delete(raceId);
    this.alertsSaved.delete(raceId);
  }

  /**
   * The race's delta since the last call; null when nothing changed. Called by the race's writer
   * only. Its number must never be sent again by whoever continues the race
   * (a successor, this process restarted), so numbers are reserved in blocks in the race's
   * checkpoint before they are used: only the delta that starts a block waits for Redis, and a
   * successor continues after the block (its clients see one gap and resync). Runner states are
   * checkpointed alongside, in the background.
   */
  async takeDelta(race: RaceEntry, tickAtMs: number): Promise<TakenDelta | null> {
    const { raceId, tracker } = race;
    const changed = tracker.hasPendingDelta;
    const unsavedCount = this.unsaved.get(raceId)?.size ?? 0;
    if (!changed && unsavedCount === 0) return null;
    const needed = tracker.sequence + (changed ? 1 : 0);
    const reserved = this.reservedSeq.get(raceId) ?? -1;
    if (needed > reserved) {
      if (!(await this.checkpoint(race, needed + RaceCheckpoints.SEQ_BLOCK - 1))) return null;
      // Changes applied while the checkpoint was written go out with the next tick.
      if (race.tracker !== tracker) return null;
    } else if (unsavedCount > 0 && !this.checkpointing.has(raceId)) {
      void this.checkpoint(race, reserved);
    }
    // Never a number that is not reserved (the sequence can have moved on while waiting, if
    // another process briefly wrote the race too).
    if (!changed || tracker.sequence + 1 > (this.reservedSeq.get(raceId) ?? -1)) return null;
    const delta = tracker.takeDelta(tickAtMs);
    return delta ? { raceId, delta } : null;
  }

  /**
   * Saves the runners changed since the last checkpoint, with where they stand in the log, the
   * race's settings and the delta numbers reserved up to `reserveSeq`. Fenced by the lease: false
   * (and the changes kept for the next one) when this process no longer writes the race or Redis
   * does not answer.
   */
  private async checkpoint(race: RaceEntry, reserveSeq: number): Promise<boolean> {
    const { raceId, tracker } = race;
    const { stores, logger } = this.deps;
    const unsaved = this.unsaved.get(raceId) ?? new Set<string>();
    this.unsaved.set(raceId, new Set());
    const states = [...unsaved].flatMap((id) => {
      const state = tracker.runnerState(id);
      return state ? [state] : [];
    });
    const meta = { lastLogId: this.deps.appliedLogId(raceId), seq: reserveSeq, sentSeq: tracker.sequence, settings: this.settingsOf(race) };
    // (Marked saved before the wait: an alert changing meanwhile unmarks it for the next checkpoint.)
    const alerts = this.alertsSaved.has(raceId) ? undefined : this.deps.alerts.checkpointed(raceId);
    this.alertsSaved.add(raceId);
    this.checkpointing.add(raceId);
    let saved = false;
    try {
      saved = await stores.runnerStates.checkpoint(raceId, states, meta, stores.leases.holderId, alerts);
    } catch (cause) {
      logger.warn({ err: cause, raceId }, 'checkpoint failed');
    } finally {
      this.checkpointing.delete(raceId);
    }
    if (!saved) {
      for (const id of unsaved) this.markUnsaved(raceId, id);
      this.alertsSaved.delete(raceId);
      return false;
    }
    this.reservedSeq.set(raceId, Math.max(this.reservedSeq.get(raceId) ?? -1, reserveSeq));
    if (meta.lastLogId !== null) this.logTrimmer.afterCheckpoint(raceId, meta.lastLogId);
    return true;
  }

  /**
   * A race's last checkpoint read back (a process starting): its course and settings are put on
   * the race; its runner states and where they stand in the log are returned for the caller to
   * restore and to read the log on from.
   */
  async restore(race: RaceEntry): Promise<Restored> {
    const { meta, states, alerts } = await this.deps.stores.runnerStates.loadCheckpointed(race.raceId);
    const settings = raceSettingsSchema.safeParse(meta?.settings);
    if (!settings.success && meta?.settings) this.deps.logger.error({ raceId: race.raceId, issues: describeIssues(settings.error) }, 'checkpointed race settings unreadable: the event file\'s are used');
    if (settings.success) {
      if (settings.data.courseDigest !== undefined) await this.restoreCourse(race, settings.data.courseDigest);
      this.restoreSettings(race, settings.data);
    }
    // Each alert read on its own: one that cannot be read is left out, not the others.
    // (At most what a checkpoint writes, and some: a key grown past that is not this server's.)
    const readable = alerts.slice(-MAX_ALERTS_RESTORED).flatMap((a) => {
      const alert = alertSchema.safeParse(a);
      return alert.success && alert.data.raceId === race.raceId ? [alert.data] : [];
    });
    if (readable.length < Math.min(alerts.length, MAX_ALERTS_RESTORED)) this.deps.logger.error({ raceId: race.raceId, unreadable: alerts.length - readable.length }, 'checkpointed alerts unreadable: left out');
    this.deps.alerts.restore(readable);
    return { meta, states };
  }

  /** The course a checkpoint names (a restarted process); the event file's when it cannot be had. */
  private async restoreCourse(race: RaceEntry, digestHex: string): Promise<void> {
    const record = courseRecordSchema.safeParse(await this.deps.stores.records.loadCourse(digestHex));
    const course = record.success ? this.deps.courseFrom(record.data, race.raceId) : null;
    if (course) this.deps.installCourse(race, course, digestHex);
    else this.deps.logger.error({ raceId: race.raceId, digestHex }, 'the course the checkpoint names is missing: the event file\'s is used');
  }

  /** A race's settings now, for its checkpoint. */
  private settingsOf(race: RaceEntry): RaceSettings {
    const { sections, credentials } = this.deps;
    const reopened = sections.reopenedOf(race.raceId);
    const devices: Record<string, [number, boolean]> = {};
    for (const [participantId, state] of credentials.changed()) {
      if (credentials.identity(participantId)?.raceId === race.raceId) devices[participantId] = [state.generation, state.revoked];
    }
    return {
      name: race.name,
      startsAtMs: race.tracker.startsAtMs,
      isPrivate: race.isPrivate,
      keyDigestHex: race.keyDigest?.toString('hex') ?? null,
      ...(Object.keys(reopened).length > 0 ? { reopened } : {}),
      ...(Object.keys(devices).length > 0 ? { devices } : {}),
      ...(race.courseDigest !== null ? { courseDigest: race.courseDigest } : {}),
      ...(race.rosterChanges.length > 0 ? { roster: race.rosterChanges } : {}),
    };
  }

  /** Settings from a checkpoint (a restarted process): taken as they are, nobody told. */
  private restoreSettings(race: RaceEntry, settings: RaceSettings): void {
    const { sections, credentials } = this.deps;
    race.name = settings.name;
    race.tracker.setStartsAt(settings.startsAtMs);
    race.isPrivate = settings.isPrivate;
    race.keyDigest = settings.keyDigestHex === null ? null : Buffer.from(settings.keyDigestHex, 'hex');
    for (const [participantId, [generation, revoked]] of Object.entries(settings.devices ?? {})) {
      // The newest wins (a participant moved on leaves an older state in their first race's
      // checkpoint): a later issue has a higher generation, a revocation the same one, revoked.
      const current = credentials.stateOf(participantId);
      if (generation > current.generation || (generation === current.generation && revoked && !current.revoked)) credentials.setState(participantId, { generation, revoked });
    }
    for (const change of settings.roster ?? []) {
      if ('leave' in change) this.deps.leave(race, change.leave);
      else this.deps.join(race, change.join, change.outcome);
    }
    // (Checkpoints written before the alerts had their own place kept them here.)
    this.deps.alerts.restore(settings.alerts ?? []);
    for (const [sectionId, atMs] of Object.entries(settings.reopened ?? {})) sections.reopen(sectionId, atMs);
  }
}
