// Finding where on the course a GPS fix lies. Nearest-point-on-the-whole-line is wrong on
// out-and-back legs and on every repeated lap, so the search is limited to a window of distances
// along the race that the runner can have reached, and candidates are scored as in Newson &
// Krumm's map matching: distance from the line, weighed by the fix's accuracy, plus disagreement
// between the candidate's distance along the race and where the runner was expected to be.
//
// All distances along the race are official metres (the line scaled to the official distance);
// offsets from the line are ground metres from cheap-ruler's flat-earth approximation.
import type { LonLat } from '../../shared/course-path.ts';
import type { Course } from './course.ts';

export interface SnapFix {
  lon: number;
  lat: number;
}

/** Where the runner is expected to be, and how sure that is (one standard deviation). */
export interface Expectation {
  distanceAlongRaceM: number;
  sigmaM: number;
}

export interface SnapCandidate {
  distanceAlongRaceM: number;
  /** Distance from the fix to the candidate point, ground metres. */
  offsetM: number;
  point: LonLat;
  cost: number;
}

export interface SearchOptions {
  /** Standard deviation of the fix's position error, metres. */
  fixSigmaM: number;
  /**
   * Direction of travel the phone reports, when it is moving fast enough for it to mean
   * something: a segment run the other way (the other leg of an out-and-back) costs more.
   */
  headingDeg?: number;
  /** Cost of a segment run in the opposite direction to the heading (half of it at right angles). */
  headingWeight?: number;
  /** Farthest a candidate may lie from the fix; farther segments are not considered. */
  maxOffsetM: number;
  /** A window spanning more segments than this is searched through the spatial index. */
  indexAboveSegments: number;
}

/**
 * The best candidate for a fix among the distances along the race in [fromM, toM], or null when
 * no part of that window lies within `maxOffsetM` of the fix.
 */
export function searchCourse(
  course: Course,
  fix: SnapFix,
  fromM: number,
  toM: number,
  expectation: Expectation | null,
  options: SearchOptions,
): SnapCandidate | null {
  const from = Math.max(0, fromM);
  const to = Math.min(course.raceDistanceM, toM);
  if (to < from) return null;
  const best: Best = { cost: Infinity, along: 0, offset: Infinity, lon: 0, lat: 0 };
  const ctx: ScanContext = {
    course,
    fix,
    expectation,
    offsetWeight: 1 / (2 * options.fixSigmaM * options.fixSigmaM),
    expectationWeight: expectation ? 1 / (2 * expectation.sigmaM * expectation.sigmaM) : 0,
    maxOffsetM: options.maxOffsetM,
    headingEast: options.headingDeg === undefined ? 0 : Math.sin((options.headingDeg * Math.PI) / 180),
    headingNorth: options.headingDeg === undefined ? 0 : Math.cos((options.headingDeg * Math.PI) / 180),
    headingWeight: options.headingDeg === undefined ? 0 : (options.headingWeight ?? 0) / 2,
    best,
  };
  const { path, lapLengthM } = course;
  const segmentsPerLap = path.coordinates.length - 1;
  const windowSegments = ((to - from) / lapLengthM) * segmentsPerLap;
  if (windowSegments > options.indexAboveSegments) {
    // A long window (a long gap, a lost runner, a first fix late in the race): ask the spatial
    // index for the segments near the fix, then keep the laps of each that fall in the window.
    for (const i of course.index.segmentsNear(fix.lon, fix.lat, options.maxOffsetM)) {
      const segStartM = path.vertexDistancesM[i]!;
      const segEndM = path.vertexDistancesM[i + 1]!;
      const firstLap = Math.max(0, Math.floor((from - segEndM) / lapLengthM));
      for (let lapStartM = firstLap * lapLengthM; lapStartM + segStartM <= to; lapStartM += lapLengthM) {
        scanSegment(ctx, i, lapStartM, from, to);
        if (!course.isLapped) break;
      }
    }
  } else {
    let lapStartM = Math.floor(from / lapLengthM) * lapLengthM;
    do {
      const firstSegment = path.segmentIndexAt(Math.max(0, from - lapStartM));
      for (let i = firstSegment; i < segmentsPerLap; i++) {
        if (lapStartM + path.vertexDistancesM[i]! > to) break;
        scanSegment(ctx, i, lapStartM, from, to);
      }
      lapStartM += lapLengthM;
    } while (lapStartM < to && course.isLapped);
  }
  if (best.cost === Infinity) return null;
  return { distanceAlongRaceM: best.along, offsetM: best.offset, point: [best.lon, best.lat], cost: best.cost };
}

interface Best {
  cost: number;
  along: number;
  offset: number;
  lon: number;
  lat: number;
}

interface ScanContext {
  course: Course;
  fix: SnapFix;
  expectation: Expectation | null;
  offsetWeight: number;
  expectationWeight: number;
  maxOffsetM: number;
  headingEast: number;
  headingNorth: number;
  headingWeight: number;
  best: Best;
}

/** Scores segment i of the lap starting at lapStartM, restricted to the window [from, to]. */
function scanSegment(ctx: ScanContext, i: number, lapStartM: number, from: number, to: number): void {
  const { path } = ctx.course;
  const kx = path.ruler.kx;
  const ky = path.ruler.ky;
  const a = path.coordinates[i]!;
  const b = path.coordinates[i + 1]!;
  const segStartM = lapStartM + path.vertexDistancesM[i]!;
  const segLengthM = path.vertexDistancesM[i + 1]! - path.vertexDistancesM[i]!;
  const sx = (b[0] - a[0]) * kx;
  const sy = (b[1] - a[1]) * ky;
  const px = (ctx.fix.lon - a[0]) * kx;
  const py = (ctx.fix.lat - a[1]) * ky;
  const lengthSq = sx * sx + sy * sy;
  let t = lengthSq > 0 ? (px * sx + py * sy) / lengthSq : 0;
  // Keep the candidate inside the segment and inside the window.
  let tMin = 0;
  let tMax = 1;
  if (segLengthM > 0) {
    tMin = Math.max(0, (from - segStartM) / segLengthM);
    tMax = Math.min(1, (to - segStartM) / segLengthM);
  }
  if (tMax < tMin) return;
  if (t < tMin) t = tMin;
  else if (t > tMax) t = tMax;
  const dx = px - sx * t;
  const dy = py - sy * t;
  const offsetSq = dx * dx + dy * dy;
  if (offsetSq > ctx.maxOffsetM * ctx.maxOffsetM) return;
  const along = segStartM + segLengthM * t;
  let cost = offsetSq * ctx.offsetWeight;
  if (ctx.expectation) {
    const miss = along - ctx.expectation.distanceAlongRaceM;
    cost += miss * miss * ctx.expectationWeight;
  } else {
    cost += along * 1e-9; // without any expectation prefer the earliest stretch, all else equal
  }
  if (ctx.headingWeight > 0 && lengthSq > 0) {
    const cosAngle = (sx * ctx.headingEast + sy * ctx.headingNorth) / Math.sqrt(lengthSq);
    cost += ctx.headingWeight * (1 - cosAngle);
  }
  if (cost < ctx.best.cost) {
    ctx.best.cost = cost;
    ctx.best.along = along;
    ctx.best.offset = Math.sqrt(offsetSq);
    ctx.best.lon = a[0] + (b[0] - a[0]) * t;
    ctx.best.lat = a[1] + (b[1] - a[1]) * t;
  }
}
