// When a runner will reach a point of the course: from their pace over the last stretch and over
// the race so far, and the climbs ahead where the course has altitudes, with an interval that
// widens with the distance still to run. Pure and shared:
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
  /**
   * The course's altitude at a distance along the race, when the course has altitudes: the
   * climbs ahead then count, and the pace is measured on the flat equivalent of what was run.
   */
  elevationAt?: (distanceAlongRaceM: number) => number;
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
const PACE_SPREAD = 0.05;
/** z of an 80% interval. */
const Z80 = 1.2816;
/**
 * A metre climbed costs about what 4 m on the flat do, a metre descended gives back about 2 m:
 * on road gradients, each 1% uphill slows a runner by about 4%, downhill helps by half as much.
 */
const CLIMB_FLAT_M = 4;
const DESCENT_FLAT_M = 2;
/** Altitudes are read this often along the course for the climbs. */
const CLIMB_STEP_M = 25;

/**
 * The altitude at a distance along the race from a course's profile (`CourseGeometry`'s
 * `elevationProfile`, along the lap), between its points.
 */
export function elevationLookup(profile: ReadonlyArray<readonly [number, number]>, lapLengthM: number, lapped: boolean): (distanceAlongRaceM: number) => number {
  return (distanceAlongRaceM) => {
    const d = lapped ? ((distanceAlongRaceM % lapLengthM) + lapLengthM) % lapLengthM : distanceAlongRaceM;
    // Binary search for the last point at or before d.
    let lo = 0;
    let hi = profile.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (profile[mid]![0] <= d) lo = mid;
      else hi = mid - 1;
    }
    const [d0, e0] = profile[lo]!;
    const [d1, e1] = profile[Math.min(lo + 1, profile.length - 1)]!;
    return d1 > d0 && d > d0 ? e0 + ((e1 - e0) * Math.min(d - d0, d1 - d0)) / (d1 - d0) : e0;
  };
}

/** The flat distance a stretch of the course is worth to a runner, with its climbs. */
export function flatEquivalentM(fromM: number, toM: number, elevationAt?: (distanceAlongRaceM: number) => number): number {
  if (!elevationAt || !(toM > fromM)) return toM - fromM;
  let total = 0;
  let previous = elevationAt(fromM);
  for (let a = fromM; a < toM; a += CLIMB_STEP_M) {
    const b = Math.min(toM, a + CLIMB_STEP_M);
    const e = elevationAt(b);
    const rise = e - previous;
    total += b - a + (rise > 0 ? CLIMB_FLAT_M * rise : DESCENT_FLAT_M * rise);
    previous = e;
  }
  // (A steep descent cannot make a stretch worth less than a fifth of its length.)
  return Math.max(total, 0.2 * (toM - fromM));
}

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
  if (input.distanceNowM - firstM < 200) return null;
  // Seconds per flat-equivalent metre: over the race so far, and over the last stretch.
  const flat = (a: number, b: number) => flatEquivalentM(a, b, input.elevationAt);
  const overallSecPerM = (nowSec - firstSec) / flat(firstM, input.distanceNowM);
  if (!(overallSecPerM > 0)) return null;
  // The latest mark at least RECENT_M behind (or the first).
  let recent = marks[0]!;
  for (const mark of marks) if (input.distanceNowM - mark[1] >= RECENT_M) recent = mark;
  const recentSecPerM = (nowSec - recent[0]) / flat(recent[1], input.distanceNowM);
  const secPerM = recent === marks[0] ? overallSecPerM : RECENT_WEIGHT * recentSecPerM + (1 - RECENT_WEIGHT) * overallSecPerM;
  const aheadSec = flat(input.distanceNowM, targetM) * secPerM;
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
