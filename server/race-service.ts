// The application layer: races, their trackers and the ping pipeline (validate, authenticate,
// persist, apply, acknowledge; fixes come in through ingest/fix-intake.ts). Protocol-free: the
// Socket.IO and HTTP edges call into it and turn its answers into their own messages.
import {
  type Ack,
  type Alert,
  type CourseGeometry,
  type FollowSnapshot,
  type RaceChangeNotice,
  type PositionAccepted,
  type RaceSnapshot,
  type PointOfInterest,
  type RaceSummary,
  type LocalNames,
} from '../shared/protocol.ts';
import type { RaceDelta } from '../shared/wire.ts';
import { RaceAlerts } from './race-alerts.ts';
import { DeviceCredentials, type DeviceIdentity } from './device-credentials.ts';
import type { Clock } from './core/clock.ts';
import type { SectionStatus } from './core/closures.ts';
import { RoadSections } from './road-sections.ts';
import { defaultAlertThresholds } from './core/alerts.ts';
import type { Course } from './core/course.ts';
import type { EngineOptions } from './core/engine-options.ts';
import type { Participant, RaceTracker } from './core/race-tracker.ts';
import type { NamedPoint } from './core/timing-points.ts';
import type { LoadedEvent } from './event/event-file.ts';
import type { LineParser } from './event/course-parser.ts';
import { defaultFixLimits, type FixLimits } from './ingest/fix.ts';
import { FixIntake } from './ingest/fix-intake.ts';
import { RaceViews } from './race-views.ts';
import type { Logger } from './logger.ts';
import type { AuditEntry, LogEntry, Stores } from './ports/stores.ts';
import type { LogRetention } from './log-trimmer.ts';
import { RaceCheckpoints } from './race-checkpoints.ts';
import { RaceTakeOver } from './race-takeover.ts';
import { RaceRegistry } from './race-registry.ts';
import { RaceMirror } from './race-mirror.ts';
import { RaceChanges } from './race-changes.ts';
import { RaceLog } from './race-log.ts';
import { OrganiserEdits } from './organiser-edits.ts';
import type { RaceEdit } from './race-edits.ts';

/** What became of an organiser's change. */
export type EditOutcome = 'done' | 'unknown' | 'unavailable';

export interface RaceEntry {
  raceId: string;
  name: string;
  /** The name in each page language, when the event file gives it so. */
  names: LocalNames | null;
  /** Changed by organisers at short notice. */
  isPrivate: boolean;
  keyDigest: Buffer | null;
  engineOptions: EngineOptions;
  /** Timing points the event file names (kept for a new course). */
  namedPoints: NamedPoint[];
  /** Water stations and other places the event file names, in order. */
  pointsOfInterest: PointOfInterest[];
  /** Replaced, not mutated, when the race changes (a new course). */
  tracker: RaceTracker;
  /** The course put on the race at run time, by digest (null: the event file's). */
  courseDigest: string | null;
  /** Participants who moved in or out at run time, in order (for the checkpoint). */
  rosterChanges: Array<{ join: Participant; outcome?: 'dnf' | 'dsq' } | { leave: string }>;
}

/** What changed in a race, for the edges to tell the race's room. */
export type RaceChange = RaceChangeNotice;

/** A change an organiser made: who, when, what. */
export type { AuditEntry } from './ports/stores.ts';

/** Who a device credential belongs to. */
export type { DeviceIdentity } from './device-credentials.ts';

export interface ViewerAccess {
  key?: string | undefined;
  isOrganiser: boolean;
}

export interface RaceServiceDeps {
  event: LoadedEvent;
  stores: Stores;
  clock: Clock;
  logger: Logger;
  /** Start time of races that do not set one. */
  defaultStartMs: number;
  /**
   * The event's secret (LINK_SECRET, or the one agreed through Redis): device tokens organisers
   * issue are derived from it, the same on every process. Absent: a random one of this process.
   */
  tokenSecret?: string | null;
  /** How long the log keeps pings behind the checkpoints (log-trimmer.ts). */
  logRetention?: LogRetention;
  engineOptions?: EngineOptions;
  fixLimits?: FixLimits;
}

export class RaceService {
  readonly eventName: string;
  /** The races held here, the event's and those created while it runs (race-registry.ts). */
  private readonly races: RaceRegistry;
  /** Device token → who it belongs to; and each participant's current token (null: revoked). */
  private readonly credentials: DeviceCredentials;
  readonly stores: Stores;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly fixLimits: FixLimits;
  private readonly changeListeners: Array<(change: RaceChange) => void> = [
    // A changed race (course, access, start, runners moved) is not served from a shared snapshot.
    (change) => this.views.forget(change.raceId),
  ];
  /** What spectators, live links and the race list are served (race-views.ts). */
  private readonly views: RaceViews;
  /** Alerts: raised by each race's writer, changed by organisers, the same on every process. */
  private readonly raceAlerts: RaceAlerts<RaceEntry>;
  /** Runners whose silent finish is on its way through the log. */
  private readonly silenceInFlight = new Set<string>();
  /** Road sections and which are reopened (road-sections.ts). */
  private readonly sections: RoadSections;
  /** Runners to save, checkpoints and the delta numbers they reserve (race-checkpoints.ts). */
  private readonly checkpoints: RaceCheckpoints;
  /** Which races this process writes, and taking one over (race-takeover.ts). */
  private readonly takeOvers: RaceTakeOver;
  /** The runners of races this process does not write, as their writers publish them (race-mirror.ts). */
  private readonly mirror: RaceMirror;
  /** Organisers' changes as read from the log, applied alike on every process (race-changes.ts). */
  private readonly changes: RaceChanges;
  /** What this process has read of each race's log, applying it in order (race-log.ts). */
  private readonly log: RaceLog;
  /** Fixes from devices: checked, stored through the log, answered (ingest/fix-intake.ts). */
  private readonly intake: FixIntake;
  /** Organisers' changes (organiser-edits.ts). */
  private readonly edits: OrganiserEdits;
  /** Pings on their way through the log at once, at most (ingest/fix-intake.ts). */
  static readonly MAX_PINGS_IN_FLIGHT = FixIntake.MAX_PINGS_IN_FLIGHT;
  /** Races and participants one server holds, the event's and those added while it runs (race-registry.ts). */
  static readonly MAX_RACES = RaceRegistry.MAX_RACES;
  static readonly MAX_PARTICIPANTS = RaceRegistry.MAX_PARTICIPANTS;

  private constructor(deps: RaceServiceDeps) {
    this.eventName = deps.event.name;
    this.sections = new RoadSections(deps.event);
    this.stores = deps.stores;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.fixLimits = deps.fixLimits ?? defaultFixLimits;
    this.log = new RaceLog({
      clock: deps.clock,
      logger: deps.logger,
      fixLimits: this.fixLimits,
      holderId: deps.stores.leases.holderId,
      race: (raceId) => this.races.get(raceId),
      appliesPings: (raceId) => this.takeOvers.applies(raceId),
      noteRead: (entry) => this.takeOvers.noteRead(entry),
      applyEdit: (race, edit, ownEntry) => this.changes.applyEdit(race, edit, ownEntry),
      markUnsaved: (raceId, participantId) => this.checkpoints.markUnsaved(raceId, participantId),
    });
    this.credentials = deps.tokenSecret ? new DeviceCredentials(deps.tokenSecret) : new DeviceCredentials();
    this.edits = new OrganiserEdits({ stores: deps.stores, clock: deps.clock, logger: deps.logger, credentials: this.credentials, races: () => this.races, log: this.log });
    this.raceAlerts = new RaceAlerts({
      clock: deps.clock,
      logger: deps.logger,
      race: (raceId) => this.races.get(raceId),
      races: () => this.races.values(),
      identity: (participantId) => this.credentials.identity(participantId),
      thresholds: (raceId) => this.races.thresholds(raceId) ?? defaultAlertThresholds,
      edit: (race, edit) => this.edit(race, edit),
      // (Sections matter to alerts only once one is reopened: no need to evaluate them every tick before.)
      runnersOnReopenedSections: () => (this.sections.anyReopened ? this.sectionStatuses().map((s) => ({ sectionId: s.sectionId, participantIds: s.runnersOnAfterReopen })) : []),
    });
    this.checkpoints = new RaceCheckpoints({
      stores: deps.stores,
      logger: deps.logger,
      logRetention: deps.logRetention,
      sections: this.sections,
      credentials: this.credentials,
      alerts: this.raceAlerts,
      appliedLogId: (raceId) => this.appliedLogIdOf(raceId),
      join: (race, participant, outcome) => this.changes.applyJoin(race, participant, outcome),
      leave: (race, participantId) => this.changes.applyLeave(race, participantId),
      courseFrom: (record, raceId) => this.changes.courseFrom(record, raceId),
      installCourse: (race, course, digestHex) => this.changes.installCourse(race, course, digestHex),
    });
    this.takeOvers = new RaceTakeOver({
      stores: deps.stores,
      logger: deps.logger,
      race: (raceId) => this.races.get(raceId),
      appliedLogId: (raceId) => this.appliedLogIdOf(raceId),
      applyLogged: (entry) => this.applyLoggedSafely(entry, true),
      applyPing: (race, ping) => this.log.applyPing(race, ping, false),
      courseFrom: (record, raceId) => this.changes.courseFrom(record, raceId),
      installCourse: (race, course, digestHex) => this.changes.installCourse(race, course, digestHex),
      restartRaceClock: (raceId) => this.log.restartClock(raceId),
      checkpoints: this.checkpoints,
    });
    this.races = new RaceRegistry({
      event: deps.event,
      stores: deps.stores,
      logger: deps.logger,
      defaultStartMs: deps.defaultStartMs,
      engineOptions: deps.engineOptions,
      tokenSecret: deps.tokenSecret,
      credentials: this.credentials,
      sections: this.sections,
    });
    this.changes = new RaceChanges({
      logger: deps.logger,
      sections: this.sections,
      credentials: this.credentials,
      alerts: this.raceAlerts,
      checkpoints: this.checkpoints,
      record: (by, action, details) => this.record(by, action, details),
      notifyChanged: (raceId, what) => this.notifyChanged(raceId, what),
      silenceArrived: (participantId) => this.silenceInFlight.delete(participantId),
    });
    this.views = new RaceViews({
      clock: deps.clock,
      race: (raceId) => this.races.get(raceId),
      races: () => this.races.values(),
      appliedLogId: (raceId) => this.appliedLogIdOf(raceId),
    });
    this.intake = new FixIntake({
      clock: deps.clock,
      fixLimits: this.fixLimits,
      race: (raceId) => this.races.get(raceId),
      waiters: this.log.waiters,
      throughLog: (raceId, append) => this.log.through(raceId, append),
      pingLog: deps.stores.pingLog,
      counts: this.log.fixCounts,
    });
    this.mirror = new RaceMirror({
      stores: deps.stores,
      logger: deps.logger,
      race: (raceId) => this.races.get(raceId),
      appliesPings: (raceId) => this.takeOvers.applies(raceId),
    });
  }

  /** Every road section's state now (docs/CLOSURES.md). */
  sectionStatuses(): SectionStatus[] {
    return this.sections.statuses(this.races.values(), this.clock.nowMs());
  }

  /**
   * An organiser reopens a section: from now on a runner found on it is an alert. Through the log
   * of the race its first stretch is on, so that every process has it, and after a restart.
   */
  async reopenSection(sectionId: string, force = false, by = 'organiser'): Promise<'reopened' | 'unknown' | 'not ready' | 'unavailable'> {
    const raceId = this.sections.raceOf(sectionId);
    const race = raceId === null ? undefined : this.races.get(raceId);
    if (!race) return 'unknown';
    // Only a section ready to reopen, unless the organiser insists (a course changed on the day).
    const state = this.sectionStatuses().find((s) => s.sectionId === sectionId)?.state;
    if (!force && state !== 'readyToReopen' && state !== 'reopened') return 'not ready';
    if (this.sections.isReopened(sectionId)) return 'reopened';
    const outcome = await this.edit(race, { kind: 'reopen', sectionId, atMs: this.clock.nowMs(), forced: force, by });
    return outcome === 'done' ? 'reopened' : outcome;
  }

  /**
   * Builds the races and picks up what the stores already hold (a restarted or second process):
   * the last checkpoint of runner states, then every ping logged after it, applied in log order,
   * so each runner is exactly where the race's writer had them. The races' pings are applied from
   * then on by their writer, once the coordinator (cluster.ts) has claimed them.
   */
  static async create(deps: RaceServiceDeps): Promise<RaceService> {
    const { stores } = deps;
    // Races that set no start time start when the first process started, for every process alike.
    const service = new RaceService({ ...deps, defaultStartMs: await stores.agreeDefaultStartMs(deps.defaultStartMs) });
    // Races created while the event ran (on Redis: by any process, before this one started).
    await service.adoptCreatedRaces();
    for (const race of service.races.values()) {
      const { meta, states } = await service.checkpoints.restore(race);
      for (const state of states) race.tracker.restoreRunner(state);
      service.log.startFrom(race.raceId, meta?.lastLogId ?? null);
      // (Every race's pings at start: its snapshots are right before its writer's first delta.)
      for (const entry of await stores.pingLog.readAfter(race.raceId, meta?.lastLogId ?? null)) service.applyLoggedSafely(entry, true);
      // Snapshots from here carry the last number the writer had sent, not the end of its
      // reserved block (ahead of the deltas actually sent: clients would drop the live ones). The
      // writer's deltas keep it up to date (observeSequence); a process that becomes the writer
      // continues after the block (takeOver).
      race.tracker.continueSequenceFrom(meta?.sentSeq ?? 0);
    }
    // Whoever moved is spoken for by the race they are in now (whichever order the races were read in).
    for (const race of service.races.values()) {
      for (const p of race.tracker.participants) {
        const identity = service.credentials.identity(p.participantId);
        if (identity && !service.races.get(identity.raceId)?.tracker.hasParticipant(p.participantId)) identity.raceId = race.raceId;
      }
    }
    // The race clock (for silence) runs on from now for what was restored.
    for (const race of service.races.values()) if (race.tracker.newestFixAtMs !== null) service.log.restartClock(race.raceId);
    return service;
  }

  /** Applies a log entry (race-log.ts); one that cannot be applied is passed over, not the rest with it. */
  applyLoggedSafely(entry: LogEntry, applyPings?: boolean): void {
    this.log.applyLoggedSafely(entry, applyPings);
  }

  /** The newest entry of a race's log this process has applied. */
  appliedLogIdOf(raceId: string): string | null {
    return this.log.appliedLogIdOf(raceId);
  }

  /** Fixes stored (acknowledged as accepted) through this process, and fixes applied to runners here: /metrics. */
  get fixCounts(): { stored: number; applied: number } {
    return this.log.fixCounts;
  }

  /** Tells whoever listens (the race's room, its live-link followers) what changed in a race. */
  private notifyChanged(raceId: string, what: RaceChange['what']): void {
    for (const listener of this.changeListeners) listener({ raceId, what });
  }

  /** Any race (private included), for organiser operations. */
  race(raceId: string): RaceEntry | null {
    return this.races.get(raceId) ?? null;
  }

  onRaceChanged(listener: (change: RaceChange) => void): void {
    this.changeListeners.push(listener);
  }

  /** A race put on a new course, on every process (organiser-edits.ts). */
  replaceCourse(race: RaceEntry, course: Course, by = 'organiser'): Promise<EditOutcome> {
    return this.edits.replaceCourse(race, course, by);
  }

  /** Takes a participant out of the race (DNF, DSQ), or back in. */
  setOutcome(participantId: string, outcome: 'dnf' | 'dsq' | 'racing', by: string): Promise<EditOutcome> {
    return this.edits.setOutcome(participantId, outcome, by);
  }

  /** An organiser's change, through the race's log. */
  private edit(race: RaceEntry, edit: RaceEdit): Promise<EditOutcome> {
    return this.edits.edit(race, edit);
  }

  /** An organiser sets the lap a runner is on (organiser-edits.ts says when it is refused). */
  setLap(participantId: string, lap: number, by: string): Promise<EditOutcome | 'not lapped' | 'no such lap' | 'not placed'> {
    return this.edits.setLap(participantId, lap, by);
  }

  /**
   * Finishes the runners whom silence shows to have finished (docs/COURSE-ENGINE.md): their last
   * fixes put them at the line and nothing came since. Called once per tick by each race's writer;
   * the decision goes through the race's log like an organiser's change, so every process makes it
   * at the same place.
   */
  closeSilentRunners(isWriter: (raceId: string) => boolean = () => true): void {
    for (const race of this.races.values()) {
      if (!isWriter(race.raceId)) continue;
      const nowMs = this.log.raceClockMs(race);
      if (nowMs === null) continue;
      for (const participantId of race.tracker.silentFinishes(nowMs)) {
        if (this.silenceInFlight.has(participantId)) continue;
        this.silenceInFlight.add(participantId);
        void this.edit(race, { kind: 'silence', participantId, atMs: nowMs }).then(
          (outcome) => {
            if (outcome !== 'done') this.silenceInFlight.delete(participantId);
          },
          (err: unknown) => {
            this.silenceInFlight.delete(participantId);
            this.logger.error({ err, participantId }, 'silent finish failed');
          },
        );
      }
    }
  }

  /**
   * Creates a race while the event runs (a race created at short notice), from the race object of
   * the event file; every process adds it (race-registry.ts). Returns the problems when it cannot
   * be created.
   */
  createRace(json: unknown, parseLine: LineParser, by: string): Promise<RaceEntry | string[] | 'capacity' | 'unavailable'> {
    return this.races.create(json, parseLine, (race) => this.record(by, 'race created', { raceId: race.raceId, participants: race.participants.length }));
  }

  /** Adds the races other processes created (or that were created before this process started). */
  adoptCreatedRaces(): Promise<void> {
    return this.races.adoptCreatedRaces();
  }

  /** Told of each race added while the event runs (race-registry.ts). */
  onRaceAdded(listener: (raceId: string) => void): void {
    this.races.onRaceAdded(listener);
  }

  /** Moves a participant to another race, on every process (organiser-edits.ts). */
  moveParticipant(participantId: string, toRaceId: string, by: string): Promise<'moved' | 'unknown participant' | 'unknown race' | 'unavailable'> {
    return this.edits.moveParticipant(participantId, toRaceId, by);
  }

  /** Changes a race at short notice: its name, its start time, or who may watch it. */
  changeRace(race: RaceEntry, change: { name?: string; startsAtMs?: number; isPrivate?: boolean; key?: string }, by: string): Promise<EditOutcome> {
    return this.edits.changeRace(race, change, by);
  }

  /** Adds an organiser's action to the event's audit, once (organiser-edits.ts). */
  private record(by: string, action: string, details: Record<string, unknown>): void {
    this.edits.record(by, action, details);
  }

  /** Every change organisers made, oldest first (the newest 10,000). */
  audit(): Promise<AuditEntry[]> {
    return this.stores.records.audit();
  }

  listRaces(options: { includePrivate: boolean }): RaceSummary[] {
    return this.views.list(options);
  }

  /** The race if the caller may see it; a private race without the right key is as unknown. */
  findViewableRace(raceId: string, access: ViewerAccess): RaceEntry | null {
    return this.views.findViewable(raceId, access);
  }

  summary(race: RaceEntry): RaceSummary {
    return this.views.summary(race);
  }

  courseGeometry(race: RaceEntry): CourseGeometry {
    return this.views.courseGeometry(race);
  }

  /** One runner and the course, for a live link; null when they are no longer in that race. */
  followSnapshot(raceId: string, participantId: string, linkExpiresAtMs: number): FollowSnapshot | null {
    return this.views.follow(raceId, participantId, linkExpiresAtMs);
  }

  /** A race as it is now. */
  snapshot(race: RaceEntry): RaceSnapshot {
    return this.views.snapshot(race);
  }

  /** A race for a spectator joining its room, shared by the joins until its next delta (race-views.ts). */
  sharedSnapshot(race: RaceEntry): RaceSnapshot {
    return this.views.sharedSnapshot(race);
  }

  authenticateDevice(deviceToken: unknown): DeviceIdentity | null {
    return this.credentials.authenticate(deviceToken);
  }

  /** OwnTracks' HTTP Basic credentials: the participant id as user, the device token as password. */
  authenticateBasic(user: string, password: string): DeviceIdentity | null {
    return this.credentials.authenticateBasic(user, password);
  }

  /** Every participant's device credential (null when revoked), for organisers to hand out. */
  deviceCredentials(): Array<DeviceIdentity & { deviceToken: string | null }> {
    return this.credentials.list();
  }

  participant(participantId: string): DeviceIdentity | null {
    return this.credentials.identity(participantId);
  }

  /**
   * A new device token for a participant; the old one stops working at once, on every process
   * (through the race's log) and after a restart.
   */
  async issueDeviceToken(participantId: string, by: string): Promise<string | 'unknown' | 'unavailable'> {
    const before = this.credentials.stateOf(participantId).generation;
    const outcome = await this.credentialEdit(participantId, 'issue', by);
    if (outcome !== 'done') return outcome;
    // The generation the log gave it (another organiser's issue may have come first: the newest counts).
    const state = this.credentials.stateOf(participantId);
    // (Logged but not applied here yet: the organiser sends again and gets the token then.)
    return state.generation > before && !state.revoked ? this.credentials.tokenFor(participantId, state.generation) : 'unavailable';
  }

  /** Revokes a participant's device token: no device of theirs is accepted until a new one is issued. */
  async revokeDeviceToken(participantId: string, by: string): Promise<EditOutcome> {
    return this.credentialEdit(participantId, 'revoke', by);
  }

  private async credentialEdit(participantId: string, action: 'issue' | 'revoke', by: string): Promise<EditOutcome> {
    const identity = this.credentials.identity(participantId);
    const race = identity ? this.races.get(identity.raceId) : undefined;
    if (!identity || !race) return 'unknown';
    return this.edit(race, { kind: 'device', participantId, action, by });
  }

  /** Called with a participant id whenever their device token stops being valid. */
  onDeviceTokenDropped(listener: (participantId: string) => void): void {
    this.credentials.onDropped(listener);
  }

  /** Several fixes from one device (a tracker app's offline buffer), each answered on its own (ingest/fix-intake.ts). */
  ingestFixes(device: DeviceIdentity, raws: readonly unknown[]): Promise<Array<Ack<PositionAccepted>>> {
    return this.intake.ingestFixes(device, raws);
  }

  /** The ping pipeline: validate, persist, apply, acknowledge (ingest/fix-intake.ts). */
  ingestFix(device: DeviceIdentity, raw: unknown): Promise<Ack<PositionAccepted>> {
    return this.intake.ingestFix(device, raw);
  }

  /** Hears the outcome of every fix: applied, not_applied (stored, older or a repeat) or an error code. */
  onFixAnswered(listener: (outcome: string) => void): void {
    this.intake.onFixAnswered(listener);
  }

  /** Fixes stored and waiting to be read back from the log (bounded by MAX_PINGS_IN_FLIGHT). */
  get fixesInFlight(): number {
    return this.log.waiters.size;
  }

  /** A runner's SOS (race-alerts.ts). */
  raiseSos(device: DeviceIdentity, raw: unknown): Promise<Ack<{ alertId: string }>> {
    return this.raceAlerts.raiseSos(device, raw);
  }

  /**
   * Opens, updates or clears alerts; once per tick, each race's writer for its race
   * (race-alerts.ts). Resolves once what it raised or changed is applied here.
   */
  evaluateAlerts(isWriter: (raceId: string) => boolean = () => true): Promise<void> {
    return this.raceAlerts.evaluate(isWriter);
  }

  /** An organiser acknowledges or resolves an alert, on every process (race-alerts.ts). */
  setAlertState(alertId: string, state: 'acknowledged' | 'resolved', by: string): Promise<Alert | null | 'resolved' | 'unavailable'> {
    return this.raceAlerts.setState(alertId, state, by);
  }

  recentAlerts(): Alert[] {
    return this.raceAlerts.recent();
  }

  onAlert(listener: (alert: Alert) => void): void {
    this.raceAlerts.onChange(listener);
  }

  /**
   * The race's delta since the last call; null when nothing changed. Called by the race's writer
   * only; its number is reserved in the race's checkpoint first (race-checkpoints.ts).
   */
  async takeDelta(raceId: string, tickAtMs: number): Promise<TakenDelta | null> {
    const race = this.races.get(raceId);
    return race ? this.checkpoints.takeDelta(race, tickAtMs) : null;
  }

  /**
   * Another process sent this race's delta: snapshots from here carry its number and, where this
   * process does not apply the race's pings, its runners as it published them (race-mirror.ts).
   */
  observeSequence(raceId: string, seq: number, delta: RaceDelta | null = null): void {
    this.mirror.observeSequence(raceId, seq, delta);
  }

  /** This process no longer writes the race (its lease went to another): it stops applying its pings. */
  releaseRace(raceId: string): void {
    this.takeOvers.release(raceId);
  }

  /**
   * This process becomes the race's writer: its runners rebuilt from the last checkpoint and the
   * log after it, its pings applied here from then on (race-takeover.ts). False: not yet (this
   * process's reading of the log is behind the checkpoint), tried again at the next renewal.
   */
  takeOver(raceId: string): Promise<boolean> {
    return this.takeOvers.takeOver(raceId);
  }

  /** Whether the stores answer (Redis reachable, when it is used). */
  storesHealthy(): Promise<boolean> {
    return this.stores.isHealthy();
  }

  raceIds(): string[] {
    return this.races.ids();
  }
}

export interface TakenDelta {
  raceId: string;
  delta: RaceDelta;
}
