// The alerts organisers see, as one part of the race service: which conditions hold (each race's
// writer looks once per tick), SOS calls, and organisers acknowledging and resolving. Every alert
// raised or changed goes through its race's log (race-service.ts applies the log on every
// process and hands these entries to `apply`), so every process keeps the same alerts under the
// same ids and each tells only its own organisers. The race's checkpoint keeps them for a restart.
import { z } from 'zod';
import { ErrorCodes, RunnerStatus, errorAck, okAck, type Ack, type Alert, type AlertKind } from '../shared/protocol.ts';
import { AlertBook, alertSchema, type AlertPlace } from './alert-book.ts';
import { runnerConditions, type AlertThresholds } from './core/alerts.ts';
import type { Clock } from './core/clock.ts';
import type { RaceTracker } from './core/race-tracker.ts';
import type { DeviceIdentity } from './device-credentials.ts';
import type { Logger } from './logger.ts';
import { describeIssues, parseInput } from './validation.ts';

const sosSchema = z
  .object({
    recordedAtMs: z.number().int().positive(),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
  })
  .strict();

/**
 * The log entries of alerts: one raised (by the race's writer, or an SOS by the process the
 * runner reached), and one changed (active again or not; acknowledged or resolved by an organiser).
 */
export const alertEditSchemas = [
  z.object({ kind: z.literal('alertRaised'), alert: alertSchema }),
  z.object({
    kind: z.literal('alertChanged'),
    alertId: z.string().min(1).max(64),
    active: z.boolean().optional(),
    state: z.enum(['acknowledged', 'resolved']).optional(),
    atMs: z.number().finite(),
    by: z.string().max(64).optional(),
  }),
] as const;
export type AlertEdit = z.infer<(typeof alertEditSchemas)[number]>;

/** Alerts a checkpoint keeps per race, the newest: unresolved ones, and resolved ones. */
const UNRESOLVED_ALERTS_CHECKPOINTED = 10_000;
const RESOLVED_ALERTS_CHECKPOINTED = 50;

/** A race as the alerts see it. */
export interface AlertedRace {
  raceId: string;
  tracker: RaceTracker;
}

export interface RaceAlertsDeps<R extends AlertedRace> {
  clock: Clock;
  logger: Logger;
  race(raceId: string): R | undefined;
  races(): Iterable<R>;
  identity(participantId: string): DeviceIdentity | null;
  thresholds(raceId: string): AlertThresholds;
  /** Sends an alert's entry through the race's log; it comes back to `apply` (on this process too). */
  edit(race: R, edit: AlertEdit): Promise<'done' | 'unknown' | 'unavailable'>;
  /** Runners on each reopened section now (nothing while none is reopened). */
  runnersOnReopenedSections(): Array<{ sectionId: string; participantIds: readonly string[] }>;
}

export class RaceAlerts<R extends AlertedRace> {
  private readonly book = new AlertBook();
  /** Since when each runner has stood still (the race's writer counts it). */
  private readonly stoppedSince = new Map<string, number>();
  /** Alerts raised or changed by this process on their way through the log. */
  private readonly inFlight = new Set<string>();
  /** SOS calls on their way through the log, per runner: pressed again meanwhile, the same call. */
  private readonly sosInFlight = new Map<string, Promise<Ack<{ alertId: string }>>>();

  constructor(private readonly deps: RaceAlertsDeps<R>) {}

  /**
   * A runner's SOS: recorded (through the race's log, so every process has it) and passed to every
   * organiser connected. Raw coordinates go to organisers only, never to a race's room.
   */
  async raiseSos(device: DeviceIdentity, raw: unknown): Promise<Ack<{ alertId: string }>> {
    const parsed = parseInput(sosSchema, raw);
    if (!parsed.success) return errorAck(ErrorCodes.MALFORMED_REQUEST, describeIssues(parsed.error).join('; '));
    // A runner pressing SOS again within a minute, or while the first is on its way, is the same call for help.
    const nowMs = this.deps.clock.nowMs();
    const recent = this.book.openOf('sos', device.participantId);
    if (recent && recent.state !== 'resolved' && nowMs - recent.updatedAtMs < 60_000) return okAck({ alertId: recent.alertId });
    const pending = this.sosInFlight.get(device.participantId);
    if (pending) return pending;
    const race = this.deps.race(device.raceId);
    if (!race) return errorAck(ErrorCodes.UNKNOWN_DEVICE, 'this device is not registered in any race');
    const place = { lat: parsed.data.lat ?? null, lon: parsed.data.lon ?? null, distanceAlongRaceM: this.placeOf(device).distanceAlongRaceM };
    const alert = AlertBook.draft('sos', device, nowMs, place, { raisedAtMs: parsed.data.recordedAtMs });
    const raised = this.deps.edit(race, { kind: 'alertRaised', alert }).then((outcome): Ack<{ alertId: string }> => {
      if (outcome === 'unavailable') return errorAck(ErrorCodes.UNAVAILABLE, 'the SOS could not be stored; send it again');
      this.deps.logger.warn({ alert }, 'SOS');
      return okAck({ alertId: alert.alertId });
    });
    this.sosInFlight.set(device.participantId, raised);
    try {
      return await raised;
    } finally {
      this.sosInFlight.delete(device.participantId);
    }
  }

  /**
   * Raises or changes an alert through the race's log, once at a time: the tick that decided it
   * does not decide it again while it is on its way.
   */
  private throughLog(race: R, edit: AlertEdit): void {
    const key = edit.kind === 'alertRaised' ? `raise:${AlertBook.key(edit.alert.kind, edit.alert.participantId, edit.alert.sectionId ?? undefined)}` : `change:${edit.alertId}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    this.sent.push(
      this.deps
        .edit(race, edit)
        .then(() => {})
        .catch((err: unknown) => this.deps.logger.error({ err, raceId: race.raceId }, 'alert change failed'))
        .finally(() => this.inFlight.delete(key)),
    );
  }

  /** What one evaluation sent through the logs, settled once each is applied here (or failed). */
  private sent: Array<Promise<void>> = [];

  /**
   * Looks at every runner (and every reopened section) and opens, updates or clears alerts. Called
   * once per tick, by each race's writer for its race. A condition that ends leaves its alert open
   * but inactive until an organiser resolves it, but for a runner back on the course (off course)
   * or finished (stopped, silent): those resolve themselves. Resolves once the alerts raised or
   * changed are applied here (the ticker does not wait for it; a test does).
   */
  evaluate(isWriter: (raceId: string) => boolean): Promise<void> {
    this.sent = [];
    const nowMs = this.deps.clock.nowMs();
    const holding = new Set<string>();
    const hold = (race: R, kind: AlertKind, who: DeviceIdentity, sectionId?: string) => {
      const existing = this.book.openOf(kind, who.participantId, sectionId);
      if (!existing) {
        const alert = AlertBook.draft(kind, who, nowMs, this.placeOf(who), sectionId === undefined ? {} : { sectionId });
        // (Held: should the log bring it into the book before the loop below, it is not taken for a condition that ended.)
        holding.add(alert.alertId);
        this.throughLog(race, { kind: 'alertRaised', alert });
        return;
      }
      holding.add(existing.alertId);
      if (!existing.active) this.throughLog(race, { kind: 'alertChanged', alertId: existing.alertId, active: true, atMs: nowMs });
    };
    for (const race of this.deps.races()) {
      // With several processes, the race's writer alone raises its alerts.
      if (!isWriter(race.raceId)) continue;
      const thresholds = this.deps.thresholds(race.raceId);
      for (const p of race.tracker.participants) {
        const state = race.tracker.runnerState(p.participantId)!;
        const result = runnerConditions(state, nowMs, thresholds, this.stoppedSince.get(p.participantId) ?? null);
        if (result.stoppedSinceMs === null) this.stoppedSince.delete(p.participantId);
        else this.stoppedSince.set(p.participantId, result.stoppedSinceMs);
        const identity = this.deps.identity(p.participantId);
        if (!identity) continue;
        for (const kind of result.kinds) hold(race, kind, identity);
      }
    }
    for (const { sectionId, participantIds } of this.deps.runnersOnReopenedSections()) {
      for (const participantId of participantIds) {
        const identity = this.deps.identity(participantId);
        const race = identity ? this.deps.race(identity.raceId) : undefined;
        if (identity && race && isWriter(race.raceId)) hold(race, 'onReopenedSection', identity, sectionId);
      }
    }
    for (const alert of this.book.all()) {
      // Only alerts of races evaluated here: another process now raising a race's alerts is not their end.
      if (alert.kind === 'sos' || alert.state === 'resolved' || !isWriter(alert.raceId) || holding.has(alert.alertId)) continue;
      const race = this.deps.race(alert.raceId);
      if (!race) continue;
      // A runner back on the course, or one who has finished, is no longer a worry: those
      // alerts resolve themselves. Others stay open, inactive, until an organiser resolves them.
      const status = race.tracker.runnerState(alert.participantId)?.status;
      const finished = status === RunnerStatus.finished;
      if (alert.kind === 'offCourse' || (finished && (alert.kind === 'stopped' || alert.kind === 'silent'))) {
        this.throughLog(race, { kind: 'alertChanged', alertId: alert.alertId, state: 'resolved', active: false, atMs: nowMs });
      } else if (alert.active) {
        this.throughLog(race, { kind: 'alertChanged', alertId: alert.alertId, active: false, atMs: nowMs });
      }
    }
    return Promise.all(this.sent).then(() => {});
  }

  /** Where a runner is on their course, for an alert: the snapped point, or nothing before they are placed. */
  private placeOf(who: DeviceIdentity): AlertPlace {
    const race = this.deps.race(who.raceId);
    const state = race?.tracker.runnerState(who.participantId);
    if (!race || !state || state.status === RunnerStatus.notStarted) return { lat: null, lon: null, distanceAlongRaceM: null };
    const [lon, lat] = race.tracker.course.path.pointAtRaceDistance(state.distanceAlongRaceM);
    return { lat, lon, distanceAlongRaceM: state.distanceAlongRaceM };
  }

  /**
   * An organiser acknowledges (someone is on it) or resolves an alert, through the alert's race's
   * log: every process shows the change. 'resolved' when it is closed already.
   */
  async setState(alertId: string, state: 'acknowledged' | 'resolved', by: string): Promise<Alert | null | 'resolved' | 'unavailable'> {
    const alert = this.book.get(alertId);
    const race = alert ? this.deps.race(alert.raceId) : undefined;
    if (!alert || !race) return null;
    // A resolved alert is closed for good: the condition coming back is a new alert.
    if (alert.state === 'resolved') return 'resolved';
    const outcome = await this.deps.edit(race, { kind: 'alertChanged', alertId, state, atMs: this.deps.clock.nowMs(), by });
    if (outcome === 'unavailable') return 'unavailable';
    // (Resolved by someone else meanwhile.)
    if (outcome === 'unknown') return 'resolved';
    return { ...(this.book.get(alertId) ?? alert) };
  }

  /**
   * Applies an alert's log entry, on every process in log order; false when it names no alert
   * there is (or one resolved already). `record`: into the audit (the process it came through only).
   */
  apply(raceId: string, edit: AlertEdit, record: (by: string, action: string, details: Record<string, unknown>) => void): boolean {
    if (edit.kind === 'alertRaised') {
      const alert = edit.alert;
      if (alert.raceId !== raceId || !this.deps.identity(alert.participantId)) return false;
      if (this.book.get(alert.alertId)) return true;
      // Two writers for a moment (a take-over) can both raise one condition: it stays one alert.
      const existing = alert.kind === 'sos' ? undefined : this.book.openOf(alert.kind, alert.participantId, alert.sectionId ?? undefined);
      if (existing) {
        if (!existing.active) this.book.update(existing, { active: true }, alert.updatedAtMs);
        return true;
      }
      this.book.add({ ...alert });
      return true;
    }
    const alert = this.book.get(edit.alertId);
    // A resolved alert is closed for good: the condition coming back is a new alert.
    if (!alert || alert.raceId !== raceId || alert.state === 'resolved') return false;
    this.book.update(alert, { ...(edit.active !== undefined ? { active: edit.active } : {}), ...(edit.state !== undefined ? { state: edit.state } : {}) }, edit.atMs);
    if (edit.by !== undefined && edit.state !== undefined) record(edit.by, `alert ${edit.state}`, { alertId: alert.alertId, kind: alert.kind, participantId: alert.participantId });
    return true;
  }

  /** A race's alerts for its checkpoint: every unresolved one and the newest resolved ones, oldest first. */
  checkpointed(raceId: string): Alert[] {
    const alerts = [...this.book.all()].filter((a) => a.raceId === raceId);
    // (Bounded, newest kept: a race whose every runner is silent and low on battery must still checkpoint.)
    const kept = [
      ...alerts.filter((a) => a.state !== 'resolved').slice(-UNRESOLVED_ALERTS_CHECKPOINTED),
      ...alerts.filter((a) => a.state === 'resolved').slice(-RESOLVED_ALERTS_CHECKPOINTED),
    ];
    return kept.sort((a, b) => a.raisedAtMs - b.raisedAtMs).map((a) => ({ ...a }));
  }

  /** Alerts from a checkpoint (a process starting). */
  restore(alerts: readonly Alert[]): void {
    for (const alert of alerts) if (!this.book.get(alert.alertId)) this.book.add({ ...alert });
  }

  recent(): Alert[] {
    return this.book.copies();
  }

  onChange(listener: (alert: Alert) => void): void {
    this.book.onChange(listener);
  }
}
