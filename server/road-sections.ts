// Road sections, as one part of the race service: which stretches of road each race uses (the
// event file's sections, and one per kilometre of a street race none covers), the state of each
// now (core/closures.ts: in use, clear behind the last runner, ready to reopen), and which ones
// organisers have reopened. A reopening goes through the log of the race the section's first
// stretch is on (race-service.ts), so every process has it; that race's checkpoint keeps it.
import { RunnerStatus } from '../shared/protocol.ts';
import { sectionStatus, sectionsPerKilometre, type ClosureRace, type SectionDefinition, type SectionStatus } from './core/closures.ts';
import type { RaceTracker } from './core/race-tracker.ts';
import type { LoadedEvent, LoadedRace } from './event/event-file.ts';

export class RoadSections {
  private readonly sections: SectionDefinition[];
  private readonly reopenedAtMs = new Map<string, number>();
  private readonly sweepers = new Set<string>();
  private readonly cutoffPaces = new Map<string, number | null>();

  /** The event file's sections, and a section per kilometre of each street race none covers. */
  constructor(event: LoadedEvent) {
    const covered = new Set(event.sections.flatMap((s) => s.spans.map((span) => span.raceId)));
    const perKm = event.races
      .filter((r) => r.course.kind === 'street' && !covered.has(r.raceId))
      .flatMap((r) => sectionsPerKilometre(r.raceId, r.name, r.distanceM));
    this.sections = [...event.sections, ...perKm];
  }

  /** A race's sweepers and cutoff pace; `added`: a race created while the event runs (its street gets a section per kilometre). */
  register(race: LoadedRace, added = false): void {
    this.cutoffPaces.set(race.raceId, race.cutoffPaceSecPerKm);
    for (const p of race.participants) if (p.isSweeper) this.sweepers.add(p.participantId);
    if (added && race.course.kind === 'street') this.sections.push(...sectionsPerKilometre(race.raceId, race.name, race.distanceM));
  }

  /** The race a section is logged with: the one its first stretch is on. */
  raceOf(sectionId: string): string | null {
    return this.sections.find((s) => s.sectionId === sectionId)?.spans[0]?.raceId ?? null;
  }

  isReopened(sectionId: string): boolean {
    return this.reopenedAtMs.has(sectionId);
  }

  get anyReopened(): boolean {
    return this.reopenedAtMs.size > 0;
  }

  /** Marks a section reopened at `atMs` (from the log, or a checkpoint); true when it was not before. False for no such section. */
  reopen(sectionId: string, atMs: number): boolean {
    if (!this.sections.some((s) => s.sectionId === sectionId) || this.reopenedAtMs.has(sectionId)) return false;
    this.reopenedAtMs.set(sectionId, atMs);
    return true;
  }

  has(sectionId: string): boolean {
    return this.sections.some((s) => s.sectionId === sectionId);
  }

  /** Sections reopened whose first stretch is on this race, and when: for its checkpoint. */
  reopenedOf(raceId: string): Record<string, number> {
    const reopened: Record<string, number> = {};
    for (const s of this.sections) {
      const atMs = this.reopenedAtMs.get(s.sectionId);
      if (atMs !== undefined && s.spans[0]?.raceId === raceId) reopened[s.sectionId] = atMs;
    }
    return reopened;
  }

  /** Every section's state now (docs/CLOSURES.md), from the races' runners as this process knows them. */
  statuses(races: Iterable<{ raceId: string; tracker: RaceTracker }>, nowMs: number): SectionStatus[] {
    const views = new Map<string, ClosureRace>();
    for (const race of races) {
      const { tracker } = race;
      views.set(race.raceId, {
        raceId: race.raceId,
        startsAtMs: tracker.startsAtMs,
        raceDistanceM: tracker.course.raceDistanceM,
        cutoffPaceSecPerKm: this.cutoffPaces.get(race.raceId) ?? null,
        runners: tracker.participants.map((p) => {
          const state = tracker.runnerState(p.participantId)!;
          return {
            participantId: p.participantId,
            distanceAlongRaceM: state.confirmedDistanceM,
            status: state.status,
            abandoned: state.status === RunnerStatus.dnf || state.status === RunnerStatus.dsq,
            isSweeper: this.sweepers.has(p.participantId),
            speedMps: state.progress?.speedMps ?? null,
          };
        }),
      });
    }
    return this.sections.map((s) => sectionStatus(s, views, nowMs, this.reopenedAtMs.get(s.sectionId) ?? null));
  }
}
