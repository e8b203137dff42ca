// The alerts organisers see: each kept once, the unresolved one of each kind per runner (and
// section) found again when its condition comes back, and every change passed to whoever listens
// (the organisers' sockets). Which conditions raise them is server/core/alerts.ts; when they are
// looked at is the race service's tick. Alerts are raised and changed through the race's log
// (race-service.ts), so every process's book holds the same alerts under the same ids.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Alert, AlertKind } from '../shared/protocol.ts';

/** An alert as the log carries it (checked again when read: the log is outside the process). */
export const alertSchema = z.object({
  alertId: z.string().min(1).max(64),
  kind: z.enum(['sos', 'stopped', 'offCourse', 'silent', 'batteryLow', 'onReopenedSection']),
  state: z.enum(['open', 'acknowledged', 'resolved']),
  active: z.boolean(),
  raceId: z.string().min(1).max(128),
  participantId: z.string().min(1).max(128),
  bib: z.string().max(64),
  name: z.string().max(200),
  raisedAtMs: z.number().finite(),
  updatedAtMs: z.number().finite(),
  lat: z.number().min(-90).max(90).nullable(),
  lon: z.number().min(-180).max(180).nullable(),
  distanceAlongRaceM: z.number().finite().nullable(),
  sectionId: z.string().max(128).nullable(),
}) satisfies z.ZodType<Alert>;

/** Alerts kept at most; past it the oldest resolved one is forgotten (unresolved ones never are). */
const MAX_ALERTS = 10_000;

export interface AlertSubject {
  raceId: string;
  participantId: string;
  bib: string;
  name: string;
}

export interface AlertPlace {
  lat: number | null;
  lon: number | null;
  distanceAlongRaceM: number | null;
}

export class AlertBook {
  private readonly byId = new Map<string, Alert>();
  /** The unresolved alert of each kind, runner and section. */
  private readonly openIds = new Map<string, string>();
  private readonly listeners: Array<(alert: Alert) => void> = [];

  static key(kind: AlertKind, participantId: string, sectionId: string | undefined): string {
    return `${kind}:${participantId}:${sectionId ?? ''}`;
  }

  /** The unresolved alert of this kind for this runner (and section), if there is one. */
  openOf(kind: AlertKind, participantId: string, sectionId?: string): Alert | undefined {
    return this.byId.get(this.openIds.get(AlertBook.key(kind, participantId, sectionId)) ?? '');
  }

  /** A new alert, not yet in any book: it goes through the race's log first. */
  static draft(
    kind: AlertKind,
    who: AlertSubject,
    nowMs: number,
    place: AlertPlace,
    extra: { raisedAtMs?: number; sectionId?: string } = {},
  ): Alert {
    return {
      alertId: randomBytes(6).toString('base64url'),
      kind,
      state: 'open',
      active: true,
      raceId: who.raceId,
      participantId: who.participantId,
      bib: who.bib,
      name: who.name,
      raisedAtMs: extra.raisedAtMs ?? nowMs,
      updatedAtMs: nowMs,
      ...place,
      sectionId: extra.sectionId ?? null,
    };
  }

  /**
   * Keeps an alert (read from the log or a checkpoint). Past MAX_ALERTS the oldest resolved one
   * is forgotten.
   */
  add(alert: Alert): void {
    this.byId.set(alert.alertId, alert);
    if (alert.state !== 'resolved') this.openIds.set(AlertBook.key(alert.kind, alert.participantId, alert.sectionId ?? undefined), alert.alertId);
    if (this.byId.size > MAX_ALERTS) {
      for (const [id, old] of this.byId) {
        if (old.state === 'resolved') {
          this.byId.delete(id);
          break;
        }
      }
    }
    for (const listener of this.listeners) listener({ ...alert });
  }

  update(alert: Alert, change: Partial<Pick<Alert, 'state' | 'active'>>, nowMs: number): void {
    Object.assign(alert, change, { updatedAtMs: nowMs });
    if (alert.state === 'resolved') {
      for (const [key, id] of this.openIds) if (id === alert.alertId) this.openIds.delete(key);
    }
    for (const listener of this.listeners) listener({ ...alert });
  }

  get(alertId: string): Alert | undefined {
    return this.byId.get(alertId);
  }

  /** Every alert kept (the book's own objects: change them only through `update`). */
  all(): IterableIterator<Alert> {
    return this.byId.values();
  }

  /** Copies of every alert kept. */
  copies(): Alert[] {
    return [...this.byId.values()].map((a) => ({ ...a }));
  }

  onChange(listener: (alert: Alert) => void): void {
    this.listeners.push(listener);
  }
}
