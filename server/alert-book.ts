// The alerts organisers see: each kept once, the unresolved one of each kind per runner (and
// section) found again when its condition comes back, and every change passed to whoever listens
// (the organisers' sockets). Which conditions raise them is server/core/alerts.ts; when they are
// looked at is the race service's tick.
import { randomBytes } from 'node:crypto';
import type { Alert, AlertKind } from '../shared/protocol.ts';

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

  private static key(kind: AlertKind, participantId: string, sectionId: string | undefined): string {
    return `${kind}:${participantId}:${sectionId ?? ''}`;
  }

  /** The unresolved alert of this kind for this runner (and section), if there is one. */
  openOf(kind: AlertKind, participantId: string, sectionId?: string): Alert | undefined {
    return this.byId.get(this.openIds.get(AlertBook.key(kind, participantId, sectionId)) ?? '');
  }

  /**
   * The unresolved alert of this kind for this runner, made active again, or opened if there is
   * none (`unique`: always a new one). `place` is asked only for a new alert.
   */
  open(
    kind: AlertKind,
    who: AlertSubject,
    nowMs: number,
    place: () => AlertPlace,
    extra: { raisedAtMs?: number; sectionId?: string; unique?: boolean } = {},
  ): Alert {
    const existing = extra.unique ? undefined : this.openOf(kind, who.participantId, extra.sectionId);
    if (existing) {
      if (!existing.active) this.update(existing, { active: true }, nowMs);
      return existing;
    }
    const alert: Alert = {
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
      ...place(),
      sectionId: extra.sectionId ?? null,
    };
    this.byId.set(alert.alertId, alert);
    this.openIds.set(AlertBook.key(kind, who.participantId, extra.sectionId), alert.alertId);
    if (this.byId.size > MAX_ALERTS) {
      for (const [id, old] of this.byId) {
        if (old.state === 'resolved') {
          this.byId.delete(id);
          break;
        }
      }
    }
    for (const listener of this.listeners) listener(alert);
    return alert;
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
