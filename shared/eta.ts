// When a runner will reach a point of the course: from their pace over the last stretch and over
// the race so far, with an interval that widens with the distance still to run. Pure and shared:
// the spectator page computes it for the point a spectator chooses, and `npm run sim -- eta`
// measures it (docs/RESULTS.md has the figures).
import type { CrossingTime, TimingPoint } from './protocol.ts';

export interface EtaInput {
  startsAtMs: number;
  timingPoints: readonly TimingPoint[];
  /** The runner's crossing times, in `timingPoints` order. */
  crossings: readonly CrossingTime[];
  /** Where the runner is now (the published distance) and as of when. */
  distanceNowM: number;
  nowMs: number;
}

export interface Eta {
  /** The expected arrival, and an interval meant to hold it four times in five. */
  atMs: number;
  earliestMs: number;
  latestMs: number;
}

/** The stretch the recent pace is measured over. */
const RECENT_M = 3000;
/** How much the recent pace counts against the pace over the race so far. */
const RECENT_WEIGHT = 0.6;
/** A runner's pace over the rest of a race is within about this share of their pace so far (one standard deviation). */
const PACE_SPREAD = 0.04;
/** z of an 80% interval. */
const Z80 = 1.2816;

/**
 * The expected time a runner reaches `targetM` (a distance along the race ahead of them), or
 * null when it cannot be said: the point is behind them, or nothing shows their pace yet.
 */
export function estimateArrival(input: EtaInput, targetM: number): Eta | null {
  const aheadM = targetM - input.distanceNowM;
  if (!(aheadM > 0)) return null;
  const nowSec = (input.nowMs - input.startsAtMs) / 1000;
  // What is known of the runner's progress: the points passed at known times, and where they are now.
  const marks: Array<[sec: number, m: number]> = [];
  for (const [k, c] of input.crossings.entries()) {
    const point = input.timingPoints[k];
    if (c && point && c[0] < nowSec) marks.push([c[0], point.distanceAlongRaceM]);
  }
  // With no point passed yet, the start: everyone set off at the gun.
  if (marks.length === 0) marks.push([0, 0]);
  const [firstSec, firstM] = marks[0]!;
  const overallSecPerM = (nowSec - firstSec) / (input.distanceNowM - firstM);
  if (!(overallSecPerM > 0) || input.distanceNowM - firstM < 200) return null;
  // The latest mark at least RECENT_M behind (or the first).
  let recent = marks[0]!;
  for (const mark of marks) if (input.distanceNowM - mark[1] >= RECENT_M) recent = mark;
  const recentSecPerM = (nowSec - recent[0]) / (input.distanceNowM - recent[1]);
  const secPerM = recent === marks[0] ? overallSecPerM : RECENT_WEIGHT * recentSecPerM + (1 - RECENT_WEIGHT) * overallSecPerM;
  const aheadSec = aheadM * secPerM;
  // The spread grows with the time still to run; and where the runner is now is known to a few seconds.
  const sigmaSec = Math.sqrt((PACE_SPREAD * aheadSec) ** 2 + 5 ** 2);
  const atMs = input.nowMs + aheadSec * 1000;
  return { atMs, earliestMs: atMs - Z80 * sigmaSec * 1000, latestMs: atMs + Z80 * sigmaSec * 1000 };
}

/**
 * The next distance along the race at which a runner at `distanceNowM` passes the point `lapM`
 * along the course's drawn lap (which starts where the race starts): once on a street course,
 * once a lap on a loop or track. Null when the race ends before.
 */
export function nextPassM(lapM: number, distanceNowM: number, lapLengthM: number, raceDistanceM: number, lapped: boolean): number | null {
  if (!lapped) return lapM > distanceNowM && lapM <= raceDistanceM ? lapM : null;
  let d = lapM + Math.max(0, Math.ceil((distanceNowM - lapM) / lapLengthM)) * lapLengthM;
  if (d <= distanceNowM) d += lapLengthM;
  return d <= raceDistanceM ? d : null;
}
