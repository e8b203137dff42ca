// Results from a race's snapshot: who is where in the race, in what time, how far behind the
// leader, and each runner's splits. Pure, and shared: the server exports them (CSV, JSON) and the
// spectator page builds its live table from the snapshot and deltas it already receives, so
// results cost the room no extra message (docs/RESULTS.md).
import { RunnerStatus, type CrossingTime, type RunnerSnapshot, type RunnerStatusCode, type TimingPoint } from './protocol.ts';

/** What a result row says of a runner's standing in the race. */
export type ResultStatus = 'finished' | 'racing' | 'off course' | 'not started' | 'dnf' | 'dsq';

/** What results need of a runner: a snapshot's runner, or what a page keeps of one. */
export type ResultsRunner = Pick<RunnerSnapshot, 'runnerIndex' | 'participantId' | 'bib' | 'name' | 'categories' | 'distanceAlongRaceM' | 'status' | 'finishedAtMs' | 'crossings'>;

export interface ResultsInput {
  raceId: string;
  raceName: string;
  startsAtMs: number;
  raceDistanceM: number;
  /** Loops and tracks are told in laps. */
  lapped: boolean;
  timingPoints: readonly TimingPoint[];
  runners: readonly ResultsRunner[];
}

export interface Split {
  pointIndex: number;
  name: string;
  distanceAlongRaceM: number;
  /** Time since the start when the runner passed the point (to a tenth of a second); null: passed at no known time. */
  sinceStartSec: number | null;
  /** Time since the previous point with a time (the start for the first), seconds. */
  splitSec: number | null;
  /** That split as a pace, seconds per kilometre. */
  paceSecPerKm: number | null;
  /** Place among the runners who passed this point at a known time, by that time (1 = first). */
  position: number | null;
}

export interface ResultRow {
  /** Overall place: finishers by time, then runners still racing by the last point passed and when; null for runners out of the race or not seen. */
  position: number | null;
  runnerIndex: number;
  participantId: string;
  bib: string;
  name: string;
  categories: string[];
  status: ResultStatus;
  distanceAlongRaceM: number;
  /** Laps completed on a loop or track; null on a street course. */
  lapsCompleted: number | null;
  /** The last timing point passed at a known time, and when. */
  lastPoint: { pointIndex: number; name: string; sinceStartSec: number } | null;
  /** The last split (time since the point before it). */
  lastSplitSec: number | null;
  /** Behind the leader at the last point both passed at a known time, seconds; 0 for the leader. */
  gapSec: number | null;
  /** Gun time (since the race's start) at the finish, seconds. */
  finishSec: number | null;
  /** Net time: no start crossing is recorded yet (phones are not a start mat), so always null for now. */
  netSec: number | null;
  splits: Split[];
}

export interface Results {
  raceId: string;
  raceName: string;
  startsAtMs: number;
  raceDistanceM: number;
  lapped: boolean;
  timingPoints: TimingPoint[];
  rows: ResultRow[];
}

const statusOf: Record<RunnerStatusCode, ResultStatus> = {
  [RunnerStatus.notStarted]: 'not started',
  [RunnerStatus.onCourse]: 'racing',
  [RunnerStatus.offCourse]: 'off course',
  [RunnerStatus.finished]: 'finished',
  [RunnerStatus.dnf]: 'dnf',
  [RunnerStatus.dsq]: 'dsq',
};

const timeOf = (c: CrossingTime | undefined): number | null => (c ? c[0] : null);

/** The last point passed at a known time. */
function lastTimed(crossings: readonly CrossingTime[]): number {
  for (let k = crossings.length - 1; k >= 0; k--) if (crossings[k]) return k;
  return -1;
}

/**
 * Results of a race. The order is a timing system's: finishers by finish time; then runners still
 * racing by how many timing points they passed and how early they passed the last one, then by
 * distance; then runners not seen yet; then those out of the race (DNF, DSQ), who have no place.
 */
export function buildResults(input: ResultsInput): Results {
  const points = input.timingPoints;
  const finishIndex = points.length - 1;
  const lapPoints = points.map((p, k) => (p.kind === 'lap' || (input.lapped && k === finishIndex) ? 1 : 0));

  // Place at each point: among the runners who passed it at a known time, by that time.
  const positionsAt: Array<Map<number, number>> = points.map((_, k) => {
    const passed = input.runners
      .filter((r) => r.crossings[k])
      .sort((a, b) => timeOf(a.crossings[k])! - timeOf(b.crossings[k])! || a.runnerIndex - b.runnerIndex);
    return new Map(passed.map((r, i) => [r.runnerIndex, i + 1]));
  });

  const rows: ResultRow[] = input.runners.map((r) => {
    const status = statusOf[r.status] ?? 'racing';
    const splits: Split[] = [];
    let previousSec: number | null = 0;
    let previousM = 0;
    for (const [k, c] of r.crossings.entries()) {
      const point = points[k];
      if (!point) break;
      const sinceStartSec = timeOf(c);
      const splitSec = sinceStartSec !== null && previousSec !== null ? round1(sinceStartSec - previousSec) : null;
      const spanM = point.distanceAlongRaceM - previousM;
      splits.push({
        pointIndex: k,
        name: point.name,
        distanceAlongRaceM: point.distanceAlongRaceM,
        sinceStartSec,
        splitSec,
        paceSecPerKm: splitSec !== null && spanM > 0 ? Math.round((splitSec * 1000) / spanM) : null,
        position: positionsAt[k]!.get(r.runnerIndex) ?? null,
      });
      // (A point passed at no known time breaks the chain: the next split is not known either.)
      previousSec = sinceStartSec;
      previousM = point.distanceAlongRaceM;
    }
    const last = lastTimed(r.crossings);
    const lastSplit = last >= 0 ? splits[last]! : null;
    return {
      position: null,
      runnerIndex: r.runnerIndex,
      participantId: r.participantId,
      bib: r.bib,
      name: r.name,
      categories: r.categories ? [...r.categories] : [],
      status,
      distanceAlongRaceM: r.distanceAlongRaceM,
      lapsCompleted: input.lapped ? r.crossings.reduce((n, _, k) => n + (lapPoints[k] ?? 0), 0) : null,
      lastPoint: lastSplit && lastSplit.sinceStartSec !== null ? { pointIndex: last, name: lastSplit.name, sinceStartSec: lastSplit.sinceStartSec } : null,
      lastSplitSec: lastSplit?.splitSec ?? null,
      gapSec: null,
      finishSec: status === 'finished' || status === 'dnf' || status === 'dsq' ? (r.finishedAtMs === null ? null : round1((r.finishedAtMs - input.startsAtMs) / 1000)) : null,
      netSec: null,
      splits,
    };
  });

  const group = (row: ResultRow): number =>
    row.status === 'finished' ? 0 : row.status === 'racing' || row.status === 'off course' ? 1 : row.status === 'not started' ? 2 : 3;
  rows.sort((a, b) => {
    const ga = group(a);
    const gb = group(b);
    if (ga !== gb) return ga - gb;
    if (ga === 0) return (a.finishSec ?? Infinity) - (b.finishSec ?? Infinity) || a.runnerIndex - b.runnerIndex;
    if (ga === 1) {
      const pa = a.lastPoint?.pointIndex ?? -1;
      const pb = b.lastPoint?.pointIndex ?? -1;
      if (pa !== pb) return pb - pa;
      const ta = a.lastPoint?.sinceStartSec ?? Infinity;
      const tb = b.lastPoint?.sinceStartSec ?? Infinity;
      return ta - tb || b.distanceAlongRaceM - a.distanceAlongRaceM || a.runnerIndex - b.runnerIndex;
    }
    return a.runnerIndex - b.runnerIndex;
  });
  let place = 0;
  for (const row of rows) if (group(row) <= 1) row.position = ++place;

  // Gap: at the last point both the runner and the leader passed at a known time.
  const leader = rows[0] && rows[0].position === 1 ? input.runners.find((r) => r.runnerIndex === rows[0]!.runnerIndex) : undefined;
  const byIndex = new Map(input.runners.map((r) => [r.runnerIndex, r]));
  for (const row of rows) {
    if (!leader || row.position === null) continue;
    const runner = byIndex.get(row.runnerIndex)!;
    for (let k = Math.min(lastTimed(runner.crossings), leader.crossings.length - 1); k >= 0; k--) {
      const mine = timeOf(runner.crossings[k]);
      const theirs = timeOf(leader.crossings[k]);
      if (mine !== null && theirs !== null) {
        row.gapSec = round1(mine - theirs);
        break;
      }
    }
  }
  return { raceId: input.raceId, raceName: input.raceName, startsAtMs: input.startsAtMs, raceDistanceM: input.raceDistanceM, lapped: input.lapped, timingPoints: [...points], rows };
}

/** The rows of one category, placed within it (the overall place is kept as `position` of the whole race). */
export function categoryRows(results: Results, category: string): Array<ResultRow & { categoryPosition: number | null }> {
  let place = 0;
  return results.rows
    .filter((row) => row.categories.includes(category))
    .map((row) => ({ ...row, categoryPosition: row.position === null ? null : ++place }));
}

/** Every category label in the race, sorted. */
export function categoriesOf(results: Results): string[] {
  return [...new Set(results.rows.flatMap((row) => row.categories))].sort();
}

/** A time in seconds as h:mm:ss (or m:ss under an hour), with tenths when asked. */
export function formatDuration(totalSec: number, tenths = false): string {
  const negative = totalSec < 0;
  const t = Math.abs(totalSec);
  const whole = Math.floor(t);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const ss = String(s).padStart(2, '0') + (tenths ? `.${Math.floor((t - whole) * 10 + 1e-6)}` : '');
  return (negative ? '-' : '') + (h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
