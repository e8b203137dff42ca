// Snapping a GPS fix to the course. Nearest-point-on-the-whole-line is wrong on out-and-back legs
// and on every repeated lap, so the search is limited to the stretch of the race the runner can
// have covered since their last accepted fix, and candidates are scored as in Newson & Krumm's
// map matching: distance from the course (weighed by the fix's accuracy) plus disagreement
// between how far the runner moved and how far along the course the candidate lies.
import type { LonLat } from '../../shared/course-path.ts';
import type { Course } from './course.ts';

export interface SnapOptions {
  /** A fix farther than this from every plausible point of the course is off course. */
  corridorM: number;
  /** Fastest plausible running speed; bounds how far along the course a runner can be. */
  maxSpeedMps: number;
  /** How far behind the last accepted position a fix may snap (GPS noise along the line). */
  backwardToleranceM: number;
  /** Slack added ahead of the reachable stretch, for noise and clock error. */
  windowMarginM: number;
  /** Accuracy assumed when a fix reports none. */
  defaultAccuracyM: number;
  /** Scale of the Newson & Krumm transition term: metres of disagreement per unit of cost. */
  transitionScaleM: number;
}

/** Defaults, chosen for road and track running with phone GPS. */
export const defaultSnapOptions: SnapOptions = {
  corridorM: 50, // wider than urban-canyon noise, narrower than the next street
  maxSpeedMps: 7, // 2:23 per km; faster than any sustained running pace
  backwardToleranceM: 30,
  windowMarginM: 60,
  defaultAccuracyM: 10,
  transitionScaleM: 40,
};

export interface SnapFix {
  lon: number;
  lat: number;
  recordedAtMs: number;
  accuracyM?: number;
}

/** Where the runner was last placed on the course. */
export interface SnapPrior {
  distanceAlongRaceM: number;
  recordedAtMs: number;
  lon: number;
  lat: number;
}

export interface SnapResult {
  onCourse: boolean;
  /** Best candidate's distance along the race (meaningful only when on course). */
  distanceAlongRaceM: number;
  /** Distance from the fix to the candidate, metres. */
  offsetM: number;
  point: LonLat;
}

/**
 * Places a fix on the course. `prior` is the runner's last accepted placement (null before the
 * first); `raceStartMs` bounds how far a runner without one can have gone.
 */
export function snapToCourse(
  course: Course,
  fix: SnapFix,
  prior: SnapPrior | null,
  raceStartMs: number,
  options: SnapOptions = defaultSnapOptions,
): SnapResult {
  const { path, raceDistanceM, lapLengthM } = course;
  const kx = path.ruler.kx;
  const ky = path.ruler.ky;

  let fromM: number;
  let toM: number;
  let movedM = 0;
  if (prior) {
    const elapsedSec = Math.max(0, fix.recordedAtMs - prior.recordedAtMs) / 1000;
    fromM = prior.distanceAlongRaceM - options.backwardToleranceM;
    toM = prior.distanceAlongRaceM + elapsedSec * options.maxSpeedMps + options.windowMarginM;
    movedM = Math.hypot((fix.lon - prior.lon) * kx, (fix.lat - prior.lat) * ky);
  } else {
    const elapsedSec = Math.max(0, fix.recordedAtMs - raceStartMs) / 1000;
    fromM = 0;
    toM = elapsedSec * options.maxSpeedMps + options.windowMarginM;
  }
  fromM = Math.max(0, fromM);
  toM = Math.min(raceDistanceM, toM);

  const sigmaM = Math.min(Math.max(fix.accuracyM ?? options.defaultAccuracyM, 3), options.corridorM);
  const coords = path.coordinates;
  const vertexM = path.vertexDistancesM;
  const lastSegment = coords.length - 2;

  let bestCost = Infinity;
  let bestAlongM = fromM;
  let bestOffsetM = Infinity;
  let bestLon = fix.lon;
  let bestLat = fix.lat;

  // Walk the window lap by lap: on a lapped course the same segment is visited once per lap in
  // the window, each time with its own distance along the race.
  // Distances along the line are official metres; offsets are ground metres from cheap-ruler.
  let lapStartM = Math.floor(fromM / lapLengthM) * lapLengthM;
  do {
    const localFromM = Math.max(0, fromM - lapStartM);
    const localToM = Math.min(lapLengthM, toM - lapStartM);
    const firstSeg = path.segmentIndexAt(localFromM);
    for (let i = firstSeg; i <= lastSegment; i++) {
      const segStartM = vertexM[i]!;
      if (segStartM > localToM) break;
      const segEndM = vertexM[i + 1]!;
      const a = coords[i]!;
      const b = coords[i + 1]!;
      const sx = (b[0] - a[0]) * kx;
      const sy = (b[1] - a[1]) * ky;
      const px = (fix.lon - a[0]) * kx;
      const py = (fix.lat - a[1]) * ky;
      const lengthSq = sx * sx + sy * sy;
      let t = lengthSq > 0 ? (px * sx + py * sy) / lengthSq : 0;
      // Keep the candidate inside the window.
      const segLengthM = segEndM - segStartM;
      if (segLengthM > 0) {
        const tMin = (localFromM - segStartM) / segLengthM;
        const tMax = (localToM - segStartM) / segLengthM;
        if (t < tMin) t = tMin;
        if (t > tMax) t = tMax;
      }
      if (t < 0) t = 0;
      else if (t > 1) t = 1;
      const dx = px - sx * t;
      const dy = py - sy * t;
      const offsetM = Math.sqrt(dx * dx + dy * dy);
      const alongM = lapStartM + segStartM + segLengthM * t;
      const offsetCost = (offsetM * offsetM) / (2 * sigmaM * sigmaM);
      const transitionCost = prior
        ? Math.abs(alongM - prior.distanceAlongRaceM - movedM) / options.transitionScaleM
        : alongM * 1e-6; // without history prefer the earliest stretch, all else equal
      const cost = offsetCost + transitionCost;
      if (cost < bestCost) {
        bestCost = cost;
        bestAlongM = alongM;
        bestOffsetM = offsetM;
        bestLon = a[0] + (b[0] - a[0]) * t;
        bestLat = a[1] + (b[1] - a[1]) * t;
      }
    }
    lapStartM += lapLengthM;
  } while (lapStartM < toM);

  return {
    onCourse: bestOffsetM <= options.corridorM,
    distanceAlongRaceM: Math.min(bestAlongM, raceDistanceM),
    offsetM: bestOffsetM,
    point: [bestLon, bestLat],
  };
}
