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
  cost: number;
  /**
   * How much a fix's error is magnified along the course here: on the inside of a bend a small
   * move of the fix sweeps its projection round the bend (on a track's bend, a fix 15 m inside
   * moves along 1.7 times as far); on the outside, less. 1 on a straight.
   */
  alongErrorScale: number;
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
  /**
   * Only points the fix projects onto squarely: none held at the window's edges or a segment's
   * ends (to find another reading of a fix, not the nearest point of a stretch it is not on).
   */
  projectedOnly?: boolean;
  /**
   * Instead of the best candidate, the earliest one along the race whose cost is at most this:
   * "the lowest plausible lap" for a runner seen for the first time, where every lap of a loop
   * fits the fix equally well.
   */
  earliestWithinCost?: number;
}

/**
 * How far past the finish a search may reach: runners go on past the line (down the finish chute,
 * or on round the lap), and a fix there is the evidence that they crossed it.
 */
/**
 * How well a candidate fits the fix itself, as the search's costs are (squared and halved, in the
 * fix's standard deviations), leaving out where it was expected: to tell two readings of a fix
 * apart by the fix alone.
 */
export function offsetCost(c: SnapCandidate, fixVarianceM2: number): number {
  return (c.offsetM * c.offsetM) / (2 * fixVarianceM2);
}

export function searchLimitM(course: Course): number {
  return course.raceDistanceM + (course.runOut?.lengthM ?? Math.min(course.lapLengthM / 2, 150));
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
  // A lapped course may be searched a little before the start (a runner behind the start line
  // is on the lap before it) and past the finish; a street course only along its line and run-out.
  const from = Math.max(course.isLapped ? -course.lapLengthM : 0, fromM);
  const to = Math.min(searchLimitM(course), toM);
  if (to < from) return null;
  // One context for every search (searches never nest): nothing allocated on the hot path.
  const ctx = scratch;
  const best = ctx.best;
  best.cost = Infinity;
  best.along = 0;
  best.offset = Infinity;
  best.curvature = best.side = 0;
  ctx.course = course;
  ctx.fix = fix;
  ctx.expectation = expectation;
  ctx.offsetWeight = 1 / (2 * options.fixSigmaM * options.fixSigmaM);
  ctx.expectationWeight = expectation ? 1 / (2 * expectation.sigmaM * expectation.sigmaM) : 0;
  ctx.maxOffsetSq = options.maxOffsetM * options.maxOffsetM;
  const heading = options.headingDeg;
  ctx.headingEast = heading === undefined ? 0 : Math.sin((heading * Math.PI) / 180);
  ctx.headingNorth = heading === undefined ? 0 : Math.cos((heading * Math.PI) / 180);
  ctx.headingWeight = heading === undefined ? 0 : (options.headingWeight ?? 0) / 2;
  ctx.earliestWithinCost = options.earliestWithinCost ?? null;
  ctx.projectedOnly = options.projectedOnly ?? false;
  ctx.runOutSearched = course.runOut !== null && to > course.raceDistanceM;
  const { path, lapLengthM } = course;
  const lineTo = Math.min(to, course.isLapped ? to : course.raceDistanceM);
  const segmentsPerLap = path.coordinates.length - 1;
  const windowSegments = ((to - from) / lapLengthM) * segmentsPerLap;
  if (windowSegments > options.indexAboveSegments) {
    // A long window (a long gap, a lost runner, a first fix late in the race): ask the spatial
    // index for the segments near the fix, then keep the laps of each that fall in the window.
    for (const i of course.index.segmentsNear(fix.lon, fix.lat, options.maxOffsetM)) {
      const segStartM = path.vertexDistancesM[i]!;
      const segEndM = path.vertexDistancesM[i + 1]!;
      const firstLap = course.isLapped ? Math.floor((from - segEndM) / lapLengthM) : 0;
      for (let lapStartM = firstLap * lapLengthM; lapStartM + segStartM <= lineTo; lapStartM += lapLengthM) {
        scanSegment(ctx, i, lapStartM, from, lineTo);
        if (!course.isLapped) break;
      }
    }
  } else if (expectation && ctx.earliestWithinCost === null) {
    scanOutward(ctx, from, lineTo, expectation.distanceAlongRaceM);
  } else {
    let lapStartM = Math.floor(from / lapLengthM) * lapLengthM;
    do {
      const firstSegment = path.segmentIndexAt(Math.max(0, from - lapStartM));
      for (let i = firstSegment; i < segmentsPerLap; i++) {
        if (lapStartM + path.vertexDistancesM[i]! > lineTo) break;
        scanSegment(ctx, i, lapStartM, from, lineTo);
      }
      lapStartM += lapLengthM;
    } while (lapStartM < lineTo && course.isLapped);
  }
  // Past the end of a street course: the run-out, the line's last direction carried on.
  if (course.runOut && to > course.raceDistanceM) {
    const { from: a, to: b, lengthM } = course.runOut;
    // Only what lies past the end: the end itself is the line's, not a catch-all for fixes short of it.
    scanLine(ctx, a, b, course.raceDistanceM, lengthM, Math.max(from, course.raceDistanceM + 1e-6), to, true);
  }
  if (best.cost === Infinity) return null;
  // The projection moves along by 1 / (1 - curvature x side) for each metre the fix moves along.
  const bend = 1 - best.curvature * best.side;
  // (Within a few percent of a straight line is a straight line: a drawn line's jitter is not a bend.)
  const alongErrorScale = Math.abs(bend - 1) < 0.05 ? 1 : Math.min(MAX_ALONG_ERROR_SCALE, Math.max(MIN_ALONG_ERROR_SCALE, 1 / Math.max(bend, 1e-6)));
  return { distanceAlongRaceM: best.along, offsetM: best.offset, cost: best.cost, alongErrorScale };
}

interface Best {
  cost: number;
  along: number;
  offset: number;
  /** The course's curvature where the candidate is (1/m, positive turning left), and the fix's side (m, positive left). */
  curvature: number;
  side: number;
}

const MAX_ALONG_ERROR_SCALE = 4;
const MIN_ALONG_ERROR_SCALE = 0.5;

interface ScanContext {
  course: Course;
  fix: SnapFix;
  expectation: Expectation | null;
  offsetWeight: number;
  expectationWeight: number;
  maxOffsetSq: number;
  headingEast: number;
  headingNorth: number;
  headingWeight: number;
  earliestWithinCost: number | null;
  projectedOnly: boolean;
  /** Whether the run-out past a street course's end is searched too (the window reaches past the line). */
  runOutSearched: boolean;
  best: Best;
}

/** The one search context, reused by every search (searches never nest). */
const scratch: ScanContext = {
  course: null as unknown as Course,
  fix: { lon: 0, lat: 0 },
  expectation: null,
  offsetWeight: 0,
  expectationWeight: 0,
  maxOffsetSq: 0,
  headingEast: 0,
  headingNorth: 0,
  headingWeight: 0,
  earliestWithinCost: null,
  projectedOnly: false,
  runOutSearched: false,
  best: { cost: Infinity, along: 0, offset: Infinity, curvature: 0, side: 0 },
};

/**
 * Scores the window's segments outwards from where the runner is expected, each way until a
 * segment cannot beat the best so far: every term of a cost is at least zero, so a segment whose
 * nearest point to the expectation already costs more than the best found is no better, nor is
 * any segment beyond it. The same answer as scoring every segment (ties aside), most often after
 * scoring three or four instead of a dozen.
 */
function scanOutward(ctx: ScanContext, from: number, to: number, expectedM: number): void {
  // (Not a number anywhere would never end the walk round a lapped course.)
  if (!Number.isFinite(from) || !Number.isFinite(to) || !Number.isFinite(expectedM)) return;
  const course = ctx.course;
  const path = course.path;
  const vd = path.vertexDistancesM;
  const segments = path.coordinates.length - 1;
  const lapLengthM = course.lapLengthM;
  const weight = ctx.expectationWeight;
  const centreM = Math.min(Math.max(expectedM, from), to);
  // The segment holding the centre, on its lap (a street course is one lap).
  let upLapM = course.isLapped ? Math.floor(centreM / lapLengthM) * lapLengthM : 0;
  let upI = path.segmentIndexAt(Math.min(Math.max(0, centreM - upLapM), lapLengthM));
  let downLapM = upLapM;
  let downI = upI - 1;
  if (downI < 0 && course.isLapped) {
    downI = segments - 1;
    downLapM -= lapLengthM;
  }
  // A segment's least cost: the expectation's from the nearest point of its stretch of the window.
  let up = true;
  let down = downI >= 0;
  while (up || down) {
    if (up) {
      const startM = upLapM + vd[upI]!;
      const lo = startM > from ? startM : from;
      const miss = expectedM < lo ? lo - expectedM : 0;
      if (startM > to || miss * miss * weight >= ctx.best.cost) up = false;
      else {
        scanSegment(ctx, upI, upLapM, from, to);
        if (++upI >= segments) {
          if (course.isLapped) {
            upI = 0;
            upLapM += lapLengthM;
          } else up = false;
        }
      }
    }
    if (down) {
      const endM = downLapM + vd[downI + 1]!;
      const hi = endM < to ? endM : to;
      const miss = expectedM > hi ? expectedM - hi : 0;
      if (endM < from || miss * miss * weight >= ctx.best.cost) down = false;
      else {
        scanSegment(ctx, downI, downLapM, from, to);
        if (--downI < 0) {
          if (course.isLapped) {
            downI = segments - 1;
            downLapM -= lapLengthM;
          } else down = false;
        }
      }
    }
  }
}

/**
 * Scores segment i of the lap starting at lapStartM, restricted to the window [from, to]. The hot
 * loop of the engine: segment vectors are precomputed (course.segments), nothing is allocated.
 */
function scanSegment(ctx: ScanContext, i: number, lapStartM: number, from: number, to: number): void {
  const course = ctx.course;
  const seg = course.segments;
  const vd = course.path.vertexDistancesM;
  const aLon = seg.lon[i]!;
  const aLat = seg.lat[i]!;
  const px = (ctx.fix.lon - aLon) * seg.kx;
  const py = (ctx.fix.lat - aLat) * seg.ky;
  const sx = seg.east[i]!;
  const sy = seg.north[i]!;
  const lengthSq = seg.lengthSq[i]!;
  const segStartM = lapStartM + vd[i]!;
  const segLengthM = vd[i + 1]! - vd[i]!;
  const rawT = lengthSq > 0 ? (px * sx + py * sy) / lengthSq : 0;
  let tMin = 0;
  let tMax = 1;
  if (segLengthM > 0) {
    if (from > segStartM) tMin = (from - segStartM) / segLengthM;
    if (to < segStartM + segLengthM) tMax = (to - segStartM) / segLengthM;
  }
  if (tMax < tMin) return;
  if (ctx.projectedOnly && (rawT < tMin || rawT > tMax)) return;
  const t = rawT < tMin ? tMin : rawT > tMax ? tMax : rawT;
  const dx = px - sx * t;
  const dy = py - sy * t;
  const offsetSq = dx * dx + dy * dy;
  if (offsetSq > ctx.maxOffsetSq) return;
  // A projection past a segment's end belongs to the neighbouring segment, unless the fix lies
  // outside the corner (nearer the vertex than to either segment): else the vertex would stand
  // in for a place nearer the expectation, pulling every fix about it towards where it was
  // expected. Only where the window goes on past that end (at its edge the end is the candidate).
  if (rawT < 0 && segStartM > from) {
    const prev = i > 0 ? i - 1 : course.isLapped ? seg.east.length - 1 : -1;
    if (prev >= 0 && px * seg.east[prev]! + py * seg.north[prev]! < 0) return;
  } else if (rawT > 1 && segStartM + segLengthM < to) {
    const next = i + 1 < seg.east.length ? i + 1 : course.isLapped ? 0 : -1;
    if (next >= 0 && (px - sx) * seg.east[next]! + (py - sy) * seg.north[next]! > 0) return;
  } else if (rawT > 1 && ctx.runOutSearched && i === seg.east.length - 1) {
    // Past the end of a street course, where the run-out is searched: the fix is placed down the
    // run-out, how far past the line it is, not at the line with the overshoot counted as a
    // sideways offset (which a fix's wide accuracy forgives: a runner standing just past the line
    // would read as standing short of it).
    return;
  }
  consider(ctx, segStartM + segLengthM * t, offsetSq, sx, sy, lengthSq, px, py, course.curvaturePerM[i]!);
}

/** Scores the segment a–b, which starts segStartM along the race and is segLengthM long. */
function scanLine(ctx: ScanContext, a: LonLat, b: LonLat, segStartM: number, segLengthM: number, from: number, to: number, projectedOnly: boolean): void {
  const curvature = 0;
  const { path } = ctx.course;
  const kx = path.ruler.kx;
  const ky = path.ruler.ky;
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
  if (projectedOnly && (t < tMin || t > tMax)) return;
  if (t < tMin) t = tMin;
  else if (t > tMax) t = tMax;
  const dx = px - sx * t;
  const dy = py - sy * t;
  const offsetSq = dx * dx + dy * dy;
  if (offsetSq > ctx.maxOffsetSq) return;
  consider(ctx, segStartM + segLengthM * t, offsetSq, sx, sy, lengthSq, px, py, curvature);
}

/** Scores one candidate point and keeps it if it is the best so far. */
function consider(
  ctx: ScanContext,
  along: number,
  offsetSq: number,
  sx: number,
  sy: number,
  lengthSq: number,
  px: number,
  py: number,
  curvature: number,
): void {
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
  const better =
    ctx.earliestWithinCost === null ? cost < ctx.best.cost : cost <= ctx.earliestWithinCost && (ctx.best.cost === Infinity || along < ctx.best.along);
  if (better) {
    ctx.best.cost = cost;
    ctx.best.along = along;
    ctx.best.offset = Math.sqrt(offsetSq);
    ctx.best.curvature = curvature;
    // Positive when the fix is to the left of the direction of the course.
    ctx.best.side = lengthSq > 0 ? (sx * py - sy * px) / Math.sqrt(lengthSq) : 0;
  }
}
