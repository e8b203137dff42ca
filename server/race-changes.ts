// Organisers' changes as read from a race's log, as one part of the race service: every process
// applies each one in log order (a section reopened, a device token issued or revoked, an alert
// raised or changed, a participant moved in or out, a new course, a silent finish, a lap, an
// outcome, the race's settings), so that every process holds the same race; only the process the
// change came through records it in the audit. Kept apart from the ping pipeline
// (race-service.ts), which sends the changes through the log and waits for them; what a change
// may hold is race-edits.ts.
import type { RaceChangeNotice } from '../shared/protocol.ts';
import { buildCourse, type Course } from './core/course.ts';
import { RaceTracker, type Participant } from './core/race-tracker.ts';
import { timingPointsFor } from './core/timing-points.ts';
import type { DeviceCredentials } from './device-credentials.ts';
import type { Logger } from './logger.ts';
import type { RaceAlerts } from './race-alerts.ts';
import type { RaceCheckpoints } from './race-checkpoints.ts';
import type { CourseRecord, RaceEdit } from './race-edits.ts';
import type { RaceEntry } from './race-service.ts';
import type { RoadSections } from './road-sections.ts';

/** Adds an organiser's action to the event's audit (by the process it came through only). */
export type AuditRecorder = (by: string, action: string, details: Record<string, unknown>) => void;

export interface RaceChangesDeps {
  logger: Logger;
  sections: RoadSections;
  credentials: DeviceCredentials;
  alerts: RaceAlerts<RaceEntry>;
  checkpoints: Pick<RaceCheckpoints, 'markUnsaved'>;
  /** Into the event's audit. */
  record: AuditRecorder;
  /** Tells whoever listens (the race's room, its live-link followers) what changed in a race. */
  notifyChanged(raceId: string, what: RaceChangeNotice['what']): void;
  /** A runner's silent finish was read back from the log: it is no longer on its way. */
  silenceArrived(participantId: string): void;
}

export class RaceChanges {
  constructor(private readonly deps: RaceChangesDeps) {}

  /**
   * Applies an organiser's change; false when it names nobody in the race. `originatedHere`: the
   * change came through this process, which alone records it in the audit.
   */
  applyEdit(race: RaceEntry, edit: RaceEdit, originatedHere: boolean): boolean {
    const { sections, credentials, checkpoints } = this.deps;
    const record: AuditRecorder = originatedHere ? (by, action, details) => this.deps.record(by, action, details) : () => {};
    if (edit.kind === 'reopen') {
      if (!sections.has(edit.sectionId)) return false;
      if (sections.reopen(edit.sectionId, edit.atMs)) {
        record(edit.by, edit.forced ? 'section reopened (forced)' : 'section reopened', { sectionId: edit.sectionId });
      }
      return true;
    }
    if (edit.kind === 'device') {
      const current = credentials.stateOf(edit.participantId);
      const next = edit.action === 'issue' ? { generation: current.generation + 1, revoked: false } : { generation: current.generation, revoked: true };
      if (!credentials.setState(edit.participantId, next)) return false;
      this.deps.logger.info({ participantId: edit.participantId, generation: next.generation }, edit.action === 'revoke' ? 'device token revoked' : 'device token issued');
      record(edit.by, edit.action === 'revoke' ? 'device token revoked' : 'device token issued', { raceId: race.raceId, participantId: edit.participantId });
      return true;
    }
    if (edit.kind === 'alertRaised' || edit.kind === 'alertChanged') return this.deps.alerts.apply(race.raceId, edit, record);
    if (edit.kind === 'join') {
      const { participant } = edit;
      if (!this.applyJoin(race, participant, edit.outcome)) return false;
      checkpoints.markUnsaved(race.raceId, participant.participantId);
      record(edit.by, 'participant moved', { participantId: participant.participantId, fromRaceId: edit.fromRaceId, toRaceId: race.raceId });
      this.deps.notifyChanged(race.raceId, 'roster');
      return true;
    }
    if (edit.kind === 'leave') {
      if (!this.applyLeave(race, edit.participantId)) return false;
      this.deps.notifyChanged(race.raceId, 'roster');
      return true;
    }
    if (edit.kind === 'course') {
      const course = this.courseFrom(edit.course, race.raceId);
      if (!course) return false;
      this.installCourse(race, course, edit.digestHex);
      for (const p of race.tracker.participants) checkpoints.markUnsaved(race.raceId, p.participantId);
      record(edit.by, 'course replaced', { raceId: race.raceId, courseKind: course.kind, vertices: course.path.coordinates.length });
      this.deps.notifyChanged(race.raceId, 'course');
      return true;
    }
    if (edit.kind === 'silence') {
      this.deps.silenceArrived(edit.participantId);
      if (!race.tracker.finishBySilence(edit.participantId, edit.atMs)) return false;
      checkpoints.markUnsaved(race.raceId, edit.participantId);
      return true;
    }
    if (edit.kind === 'lap') {
      if (!race.tracker.setLap(edit.participantId, edit.lap)) return false;
      checkpoints.markUnsaved(race.raceId, edit.participantId);
      record(edit.by, 'lap set', { raceId: race.raceId, participantId: edit.participantId, lap: edit.lap });
      this.deps.notifyChanged(race.raceId, 'laps');
      return true;
    }
    if (edit.kind === 'outcome') {
      if (!race.tracker.setOutcome(edit.participantId, edit.outcome)) return false;
      checkpoints.markUnsaved(race.raceId, edit.participantId);
      record(edit.by, `participant ${edit.outcome}`, { raceId: race.raceId, participantId: edit.participantId });
      return true;
    }
    this.applySettings(race, edit, record);
    return true;
  }

  /** A participant joins a race (moved from another): added to its roster, their device now speaks for this race. */
  applyJoin(race: RaceEntry, participant: Participant, outcome: 'dnf' | 'dsq' | undefined): boolean {
    const identity = this.deps.credentials.identity(participant.participantId);
    if (!identity || race.tracker.hasParticipant(participant.participantId)) return false;
    race.tracker.addParticipant(participant);
    if (outcome) race.tracker.setOutcome(participant.participantId, outcome);
    // The identity object is shared with the device map and open device connections.
    identity.raceId = race.raceId;
    race.rosterChanges.push({ join: participant, ...(outcome ? { outcome } : {}) });
    return true;
  }

  applyLeave(race: RaceEntry, participantId: string): boolean {
    if (!race.tracker.removeParticipant(participantId)) return false;
    race.rosterChanges.push({ leave: participantId });
    return true;
  }

  /** A course from its record; null (and logged) when it cannot be built. */
  courseFrom(record: CourseRecord, raceId: string): Course | null {
    try {
      const course = buildCourse(record.definition, record.raceDistanceM);
      if (record.profile) course.profile = record.profile;
      return course;
    } catch (cause) {
      this.deps.logger.error({ err: cause, raceId }, 'a logged course could not be built');
      return null;
    }
  }

  /** Swaps a race's tracker for one on `course`, carrying every runner over. */
  installCourse(race: RaceEntry, course: Course, digestHex: string): void {
    race.tracker = RaceTracker.onNewCourse(race.tracker, course, { engine: race.engineOptions, timingPoints: timingPointsFor(course, race.namedPoints) });
    race.courseDigest = digestHex;
  }

  private applySettings(race: RaceEntry, change: Extract<RaceEdit, { kind: 'settings' }>, record: AuditRecorder): void {
    const { by } = change;
    if (change.name !== undefined) {
      race.name = change.name;
      record(by, 'race renamed', { raceId: race.raceId, name: change.name });
    }
    if (change.startsAtMs !== undefined) {
      race.tracker.setStartsAt(change.startsAtMs);
      record(by, 'start time changed', { raceId: race.raceId, startsAtMs: change.startsAtMs });
      this.deps.notifyChanged(race.raceId, 'start');
    }
    if (change.keyDigestHex !== undefined) race.keyDigest = Buffer.from(change.keyDigestHex, 'hex');
    if (change.isPrivate !== undefined && change.isPrivate !== race.isPrivate) {
      race.isPrivate = change.isPrivate;
      record(by, change.isPrivate ? 'race made private' : 'race made public', { raceId: race.raceId });
      this.deps.notifyChanged(race.raceId, 'access');
    } else if (change.keyDigestHex !== undefined) {
      // A new key locks out whoever had the old one.
      record(by, 'race key changed', { raceId: race.raceId });
      this.deps.notifyChanged(race.raceId, 'access');
    }
  }
}
