// Organisers' changes to a running event (race-service.ts hands them here): a new course, a runner
// taken out of the race or put back, a lap set, a runner moved to another race, a race's settings;
// each goes through the race's log, so every process applies it at the same place among the
// fixes, and each is recorded in the event's audit by the process it came through.
import { createHash } from 'node:crypto';
import { RunnerStatus } from '../shared/protocol.ts';
import { lapNumber, lapsInRace } from '../shared/course-path.ts';
import type { Clock } from './core/clock.ts';
import type { Course } from './core/course.ts';
import type { Participant } from './core/race-tracker.ts';
import { digest, type DeviceCredentials } from './device-credentials.ts';
import type { Logger } from './logger.ts';
import type { AuditEntry, Stores } from './ports/stores.ts';
import type { CourseRecord, RaceEdit } from './race-edits.ts';
import type { RaceLog } from './race-log.ts';
import type { RaceRegistry } from './race-registry.ts';
import type { EditOutcome, RaceEntry } from './race-service.ts';

export interface OrganiserEditsDeps {
  stores: Stores;
  clock: Clock;
  logger: Logger;
  credentials: DeviceCredentials;
  races: () => RaceRegistry;
  log: RaceLog;
}

export class OrganiserEdits {
  constructor(private readonly deps: OrganiserEditsDeps) {}

  /**
   * Puts a race on a new course, on every process: the course is kept among the event's courses
   * (so a restarted process can build it again) and goes through the race's log. Where a runner
   * is on the new line is found afresh from their next fix, from the distance already published
   * (which never goes back); finishes stay. The ping log keeps everything sent so far; the
   * sequence of deltas continues.
   */
  async replaceCourse(race: RaceEntry, course: Course, by: string): Promise<EditOutcome> {
    const record: CourseRecord = {
      definition: course.definition,
      raceDistanceM: course.raceDistanceM,
      ...(course.profile ? { profile: course.profile } : {}),
    };
    const digestHex = createHash('sha256').update(JSON.stringify(record)).digest('hex');
    try {
      await this.deps.stores.records.saveCourse(digestHex, record);
    } catch (cause) {
      this.deps.logger.error({ err: cause, raceId: race.raceId }, 'course could not be stored');
      return 'unavailable';
    }
    return this.edit(race, { kind: 'course', digestHex, course: record, by });
  }

  /** Takes a participant out of the race (DNF, DSQ), or back in. */
  async setOutcome(participantId: string, outcome: 'dnf' | 'dsq' | 'racing', by: string): Promise<EditOutcome> {
    const race = this.raceOf(participantId);
    if (!race) return 'unknown';
    return this.edit(race, { kind: 'outcome', participantId, outcome, by });
  }

  /**
   * An organiser's change: appended to the race's log and applied (by every process) when it is
   * read back, in order with the fixes.
   */
  async edit(race: RaceEntry, edit: RaceEdit): Promise<EditOutcome> {
    const sent = await this.deps.log.through(race.raceId, (tag) => this.deps.stores.pingLog.appendChange(race.raceId, edit, tag));
    if (!sent.stored) return 'unavailable';
    // Null: logged but not read back yet; it will be applied, by this process too.
    return sent.result === false ? 'unknown' : 'done';
  }

  /**
   * An organiser sets the lap a runner is on (a lapped race only): the runner keeps their place
   * on the lap. 'unknown' for nobody, 'not lapped' for a street race, 'no such lap' for a lap
   * the race does not have, 'not placed' for a runner not on the course (not seen yet, finished,
   * out of the race).
   */
  async setLap(participantId: string, lap: number, by: string): Promise<EditOutcome | 'not lapped' | 'no such lap' | 'not placed'> {
    const race = this.raceOf(participantId);
    if (!race) return 'unknown';
    const course = race.tracker.course;
    if (!course.isLapped) return 'not lapped';
    if (lap > lapsInRace(course.lapLengthM, course.raceDistanceM, course.startOffsetM)) return 'no such lap';
    const state = race.tracker.runnerState(participantId);
    if (!state || (state.status !== RunnerStatus.onCourse && state.status !== RunnerStatus.offCourse)) return 'not placed';
    // The runner's place on the lap may not allow that lap (the first or the last, partly run):
    // refused here, as the tracker would refuse it, so that a refusal leaves nothing in the log.
    const onLapM = state.distanceAlongRaceM + (lap - lapNumber(state.distanceAlongRaceM, course.lapLengthM, course.raceDistanceM, course.startOffsetM)) * course.lapLengthM;
    if (onLapM < 0 || onLapM >= course.raceDistanceM) return 'no such lap';
    const outcome = await this.edit(race, { kind: 'lap', participantId, lap, by });
    // (The runner moved meanwhile, to where the lap is not allowed.)
    return outcome === 'unknown' ? 'no such lap' : outcome;
  }

  /**
   * Moves a participant to another race: they join the new race's roster and start afresh on its
   * course, then leave the old race's (its room hears of them no more); their device keeps working.
   * Each step goes through its race's log, so every process moves them alike.
   */
  async moveParticipant(participantId: string, toRaceId: string, by: string): Promise<'moved' | 'unknown participant' | 'unknown race' | 'unavailable'> {
    const races = this.deps.races();
    const identity = this.deps.credentials.identity(participantId);
    if (!identity) return 'unknown participant';
    const to = races.get(toRaceId);
    if (!to) return 'unknown race';
    const from = races.get(identity.raceId);
    if (!from) return 'moved';
    if (from === to) {
      // Joined already; a leave that could not be stored before (answered "send again") is sent now.
      const stale = [...races.values()].find((r) => r !== to && r.tracker.hasParticipant(participantId));
      if (!stale) return 'moved';
      const left = await this.edit(stale, { kind: 'leave', participantId, toRaceId: to.raceId });
      return left === 'unavailable' ? 'unavailable' : 'moved';
    }
    // Into the new race first: if that fails the runner is still in the old one.
    // (Their categories go with them: the identity holds only who speaks for the device.)
    const known = from.tracker.everParticipants.find((p) => p.participantId === participantId);
    const participant: Participant = {
      participantId,
      bib: identity.bib,
      name: identity.name,
      ...(known?.names ? { names: known.names } : {}),
      ...(known?.categories ? { categories: [...known.categories] } : {}),
    };
    // An organiser's DNF or DSQ stays with the runner.
    const status = from.tracker.runnerState(participantId)?.status;
    const outcome = status === RunnerStatus.dnf ? 'dnf' : status === RunnerStatus.dsq ? 'dsq' : undefined;
    const joined = await this.edit(to, { kind: 'join', participant, fromRaceId: from.raceId, by, ...(outcome ? { outcome } : {}) });
    if (joined === 'unavailable') return 'unavailable';
    if (joined === 'unknown') return 'unknown participant';
    const left = await this.edit(from, { kind: 'leave', participantId, toRaceId: to.raceId });
    // (Joined already: the runner's fixes go to the new race; the old one keeps showing them until the leave is stored.)
    return left === 'unavailable' ? 'unavailable' : 'moved';
  }

  /** Changes a race at short notice: its name, its start time, or who may watch it. */
  changeRace(race: RaceEntry, change: { name?: string; startsAtMs?: number; isPrivate?: boolean; key?: string }, by: string): Promise<EditOutcome> {
    return this.edit(race, {
      kind: 'settings',
      by,
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.startsAtMs !== undefined ? { startsAtMs: change.startsAtMs } : {}),
      ...(change.isPrivate !== undefined ? { isPrivate: change.isPrivate } : {}),
      ...(change.key !== undefined ? { keyDigestHex: digest(change.key).toString('hex') } : {}),
    });
  }

  /**
   * Adds an organiser's action to the event's audit (shared by every process on Redis). Called by
   * the process the action came through only, so each action is recorded once; the server's log
   * line is written whatever becomes of the store.
   */
  record(by: string, action: string, details: Record<string, unknown>): void {
    const entry: AuditEntry = { atMs: this.deps.clock.nowMs(), by, action, details };
    this.deps.logger.info({ audit: entry }, action);
    void this.deps.stores.records.appendAudit(entry).catch((err: unknown) => {
      this.deps.logger.error({ err, action }, 'audit entry could not be stored');
    });
  }

  /** The race a participant is in, when they are in its roster. */
  private raceOf(participantId: string): RaceEntry | null {
    const identity = this.deps.credentials.identity(participantId);
    const race = identity ? this.deps.races().get(identity.raceId) : undefined;
    return identity && race && race.tracker.hasParticipant(participantId) ? race : null;
  }
}
