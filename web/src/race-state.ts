// What the viewer knows of one race: the roster and each runner's course-relative position, kept
// in step with the server by a snapshot and then deltas in sequence. A gap in the sequence means
// a lost delta: the viewer must fetch a new snapshot (the caller does, on `needsSnapshot`).
import { lapNumber } from '../../shared/course-path.ts';
import { RunnerStatus, type CrossingTime, type RaceSnapshot, type RunnerStatusCode } from '../../shared/protocol.ts';
import type { RaceDelta } from '../../shared/wire.ts';

export interface ViewedRunner {
  runnerIndex: number;
  participantId: string;
  bib: string;
  /** The name in the page's language when the event file gives it so, else the name. */
  name: string;
  /** The name as given and in every language it was given in, lower case: what a search matches. */
  searchNames: string[];
  categories?: string[];
  distanceAlongRaceM: number;
  status: RunnerStatusCode;
  /** When the runner crossed the finish line: from the snapshot, or from the finish's crossing in a delta. */
  finishedAtMs: number | null;
  /** Crossing times of the timing points passed, as snapshots and deltas bring them (CourseGeometry.timingPoints order). */
  crossings: CrossingTime[];
}

export type DeltaOutcome = 'applied' | 'stale' | 'needsSnapshot';

export class ViewedRace {
  private runnersByIndex = new Map<number, ViewedRunner>();
  private seq = -1;
  /** The race's start, from the snapshot: crossing times count from it. */
  startsAtMs = 0;
  /** The server's time of the newest snapshot or delta: what the positions are as of. */
  asOfMs = 0;

  constructor(
    readonly raceId: string,
    readonly lapLengthM: number,
    readonly raceDistanceM: number,
    /** How far past the lap line the race starts. */
    readonly startOffsetM = 0,
    /** How many timing points the course has; the last is the finish. */
    readonly timingPointCount = 0,
    /** The page's language: names given in it are shown (docs/EVENT-FILE.md, `names`). */
    readonly language: 'en' | 'fa' = 'en',
  ) {}

  get sequence(): number {
    return this.seq;
  }

  get runners(): ViewedRunner[] {
    return [...this.runnersByIndex.values()];
  }

  runner(runnerIndex: number): ViewedRunner | undefined {
    return this.runnersByIndex.get(runnerIndex);
  }

  lapOf(runner: ViewedRunner): number {
    return lapNumber(runner.distanceAlongRaceM, this.lapLengthM, this.raceDistanceM, this.startOffsetM);
  }

  applySnapshot(snapshot: RaceSnapshot): void {
    this.runnersByIndex = new Map(
      snapshot.runners.map((r) => [
        r.runnerIndex,
        {
          runnerIndex: r.runnerIndex,
          participantId: r.participantId,
          bib: r.bib,
          name: r.names?.[this.language] ?? r.name,
          searchNames: [r.name, ...Object.values(r.names ?? {})].map((n) => n.toLowerCase()),
          ...(r.categories ? { categories: [...r.categories] } : {}),
          distanceAlongRaceM: r.distanceAlongRaceM,
          status: r.status,
          finishedAtMs: r.finishedAtMs,
          crossings: [...r.crossings],
        },
      ]),
    );
    this.seq = snapshot.seq;
    this.startsAtMs = snapshot.startsAtMs;
    this.asOfMs = snapshot.takenAtMs;
  }

  applyDelta(delta: RaceDelta): DeltaOutcome {
    if (delta.seq <= this.seq) return 'stale';
    if (this.seq < 0 || delta.seq !== this.seq + 1) return 'needsSnapshot';
    for (const entry of delta.entries) {
      const runner = this.runnersByIndex.get(entry.runnerIndex);
      // An index the roster does not know means the roster changed: resync.
      if (!runner) return 'needsSnapshot';
      runner.distanceAlongRaceM = entry.distanceAlongRaceM;
      runner.status = entry.status;
      if (entry.status === RunnerStatus.finished) runner.finishedAtMs ??= delta.tickAtMs;
    }
    for (const c of delta.crossings) {
      const runner = this.runnersByIndex.get(c.runnerIndex);
      if (!runner) return 'needsSnapshot';
      runner.crossings[c.pointIndex] = c.sinceStartMs === null ? null : [c.sinceStartMs / 1000, c.sigmaMs / 1000];
      // The finish is the last timing point: its crossing is the finish time.
      if (c.pointIndex === this.timingPointCount - 1 && c.sinceStartMs !== null) runner.finishedAtMs = this.startsAtMs + c.sinceStartMs;
    }
    this.seq = delta.seq;
    this.asOfMs = Math.max(this.asOfMs, delta.tickAtMs);
    return 'applied';
  }

  /** Runners ahead first: finishers in the order they finished, then by distance along the race. */
  leaders(count: number): ViewedRunner[] {
    const finishOrder = (r: ViewedRunner) => r.finishedAtMs ?? Infinity;
    return this.runners
      .filter((r) => r.status !== RunnerStatus.notStarted && r.status !== RunnerStatus.dnf && r.status !== RunnerStatus.dsq)
      .sort(
        (a, b) =>
          finishOrder(a) - finishOrder(b) || b.distanceAlongRaceM - a.distanceAlongRaceM || a.runnerIndex - b.runnerIndex,
      )
      .slice(0, count);
  }

  /** Finds a runner by exact bib, then by a name that contains the query. */
  find(query: string): ViewedRunner | undefined {
    const q = query.trim().toLowerCase();
    if (q === '') return undefined;
    const runners = this.runners;
    return (
      runners.find((r) => r.bib.toLowerCase() === q) ??
      runners.find((r) => `${r.bib} ${r.name}`.toLowerCase() === q) ??
      runners.find((r) => r.searchNames.some((name) => name.includes(q)))
    );
  }
}
