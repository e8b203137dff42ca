// The course engine's accuracy evaluation: seeded scenarios of runners with noisy GPS, run
// through the race tracker and through the naive baseline (Turf's nearest point on the whole
// race line), measured against the ground truth: positions, laps, finishes, finish times and
// crossing times. Every scenario runs twice, with and without the phone's speed and heading.
// `npm run sim -- accuracy` prints the table and the misses.
import * as turf from '@turf/turf';
import { lapNumber, type LonLat } from '../shared/course-path.ts';
import { RunnerStatus } from '../shared/protocol.ts';
import { buildCourse, type Course, type CourseDefinition } from '../server/core/course.ts';
import { defaultEngineOptions, type EngineOptions } from '../server/core/engine-options.ts';
import { RaceTracker, type Fix } from '../server/core/race-tracker.ts';
import { unpackCrossing } from '../server/core/timing-points.ts';
import { outAndBack, parkLoop } from './course-shapes.ts';
import { seededRandom, type Random } from '../shared/random.ts';

/** A fix within this of the true distance along the race counts as accurate. */
export const ACCURATE_WITHIN_M = 20;
/** A finish shown while the runner is more than this short of the line is a false finish. */
export const FALSE_FINISH_SHORT_M = 3;
/** Finish and crossing times within this of the truth, for fixes every 10 s or more often. */
export const TIME_WITHIN_SEC = 5;
const WALK_MPS = 1.2;

/**
 * What a runner does once past the line: walks on down the finish chute, stands just past it,
 * stops their phone at it (one last fix there, then nothing), or runs on (round the lap, or down
 * the street) before standing.
 */
export type AfterFinish = 'chute' | 'stand' | 'silent' | 'run-on';
const AFTER_FINISH: AfterFinish[] = ['chute', 'stand', 'silent', 'run-on'];

/**
 * What runner k does past the line.
 */
export function afterFinishOf(scenario: Scenario, k: number): AfterFinish {
  const choice = AFTER_FINISH[k % AFTER_FINISH.length]!;
  // After standing 10 m short, a runner who steps 11 m on and stands again (or sends one fix at
  // the line) has moved about one GPS error: when they crossed cannot be told within seconds.
  const stoodShort = scenario.stop !== undefined && scenario.stop.atM > scenario.course().raceDistanceM - 50;
  return stoodShort && (choice === 'silent' || choice === 'stand') ? (k % 2 === 0 ? 'chute' : 'run-on') : choice;
}

export interface Scenario {
  name: string;
  description: string;
  course: () => Course;
  runners: number;
  paceSecPerKm: [number, number];
  intervalSec: number;
  /** GPS error: standard deviation per axis, metres. */
  noiseM: number;
  /** Share of fixes thrown 50 to 150 m off (reflections in a street canyon). */
  outlierShare?: number;
  /** Correlated multipath: each fix starts, with this chance, a bias of `biasM` in one direction held for `forSec`. */
  multipath?: { startShare: number; biasM: number; forSec: number };
  /** Stretches without any fix (tunnels, a phone in a bag), seconds. */
  gapsSec?: [number, number];
  /** The phone is offline for stretches of this length and sends what it buffered in a burst, shuffled. */
  burstsSec?: [number, number];
  /** The runner stops on the course for this long, at the given distance; `forever`: the data ends there, they never go on. */
  stop?: { atM: number; forSec: number; forever?: boolean };
  /** The runner leaves the course at a distance, goes `awayM` off and comes back at the same place. */
  excursion?: { atM: number; forSec: number; awayM: number };
  /** The runner turns round at a distance and walks back `backM`, then runs on. */
  walkBack?: { atM: number; backM: number };
  /** The runner starts this long after the gun (their phone's first fix is at the start line then). */
  lateStartSec?: number;
  /** Over the last `lastM` metres the runner kicks: their pace rises by `share` within `overSec` seconds. */
  kick?: { lastM: number; share: number; overSec: number };
  /** Whether fixes carry the phone's speed and heading (every tracker app sends them; a browser may not). */
  reportsSpeed?: boolean;
  /** Whether fixes carry the phone's stated accuracy (false: none, as some apps send; the engine learns it). */
  reportsAccuracy?: boolean;
}

const courseCache = new Map<string, Course>();
function cachedCourse(key: string, definition: () => CourseDefinition, distanceM: number): () => Course {
  return () => {
    let course = courseCache.get(key);
    if (!course) {
      course = buildCourse(definition(), distanceM);
      courseCache.set(key, course);
    }
    return course;
  };
}

const street = (distanceM: number, gapM: number) =>
  cachedCourse(`street-${distanceM}-${gapM}`, () => ({ kind: 'street', coordinates: outAndBack(distanceM, gapM) }), distanceM);
const loop32k = cachedCourse('loop', () => ({ kind: 'loop', coordinates: parkLoop(), lapLengthM: 700 }), 32000);
const track10k = cachedCourse(
  'track',
  () => ({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }),
  10000,
);
const track5k = cachedCourse(
  'track-5k',
  () => ({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }),
  5000,
);

const tenK = { course: street(10000, 15), runners: 4, paceSecPerKm: [200, 420] as [number, number], intervalSec: 5 };

export const scenarios: Scenario[] = [
  ...[10, 15, 20].flatMap((gapM) =>
    [5, 8, 12].map(
      (noiseM): Scenario => ({
        name: `out-and-back-${gapM}m-noise-${noiseM}m`,
        description: `10 km out-and-back, legs ${gapM} m apart, ${noiseM} m noise, a fix every 5 s`,
        ...tenK,
        course: street(10000, gapM),
        noiseM,
      }),
    ),
  ),
  {
    name: 'park-loop-700m-x46',
    description: '32 km on the 700 m park loop (45.7 laps), 8 m noise, a fix every 5 s',
    course: loop32k,
    runners: 3,
    paceSecPerKm: [270, 420],
    intervalSec: 5,
    noiseM: 8,
  },
  {
    name: 'stadium-track-400m-x25',
    description: '10 km, 25 laps of a 400 m track, 15 m noise (a stadium), a fix every 5 s',
    course: track10k,
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 15,
  },
  {
    name: 'stadium-track-stop-and-kick',
    description: '10 km on the 400 m track, 15 m noise, a fix every 5 s: stops 2 min at 6.15 km (a shoe to tie), kicks 25% faster over the last 600 m',
    course: track10k,
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 15,
    stop: { atM: 6150, forSec: 120 },
    kick: { lastM: 600, share: 0.25, overSec: 20 },
  },
  {
    name: 'stadium-track-5000m',
    description: '5,000 m on the track, starting 200 m into the lap, 8 m noise, a fix every 2 s',
    course: track5k,
    runners: 4,
    paceSecPerKm: [180, 330],
    intervalSec: 2,
    noiseM: 8,
  },
  { name: 'urban-canyon-outliers', description: '10 km street, 6 m noise, 5% of fixes thrown 50-150 m off', ...tenK, noiseM: 6, outlierShare: 0.05 },
  {
    name: 'multipath-60m-for-60s',
    description: '10 km street, 6 m noise, a 60 m bias held for 60 s starting on about 2% of fixes',
    ...tenK,
    noiseM: 6,
    multipath: { startShare: 0.02, biasM: 60, forSec: 60 },
  },
  {
    name: 'marathon-fix-every-1s',
    description: '42.195 km street, 8 m noise, a fix every second',
    course: street(42195, 15),
    runners: 2,
    paceSecPerKm: [180, 400],
    intervalSec: 1,
    noiseM: 8,
  },
  {
    name: 'marathon-fix-every-10s',
    description: '42.195 km street, 8 m noise, a fix every 10 s',
    course: street(42195, 15),
    runners: 4,
    paceSecPerKm: [180, 400],
    intervalSec: 10,
    noiseM: 8,
  },
  {
    name: 'marathon-fix-every-300s',
    description: "42.195 km street, 8 m noise, a fix every 300 s (Traccar Client's default)",
    course: street(42195, 15),
    runners: 8,
    paceSecPerKm: [180, 400],
    intervalSec: 300,
    noiseM: 8,
  },
  {
    name: 'legs-8m-apart-fix-every-300s',
    description: '10 km out-and-back, legs 8 m apart, 6 m noise, a fix every 300 s',
    course: street(10000, 8),
    runners: 8,
    paceSecPerKm: [200, 420],
    intervalSec: 300,
    noiseM: 6,
  },
  {
    name: 'fix-every-60s',
    description: '21.1 km street, 8 m noise, a fix every 60 s',
    course: street(21097.5, 15),
    runners: 6,
    paceSecPerKm: [190, 400],
    intervalSec: 60,
    noiseM: 8,
  },
  {
    name: 'gaps-60-600s',
    description: '21.1 km street, 8 m noise, a fix every 5 s with gaps of 60-600 s',
    course: street(21097.5, 15),
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 8,
    gapsSec: [60, 600],
  },
  {
    name: 'buffered-bursts-out-of-order',
    description: '21.1 km street, 8 m noise, offline for 2-10 min at a time, buffered fixes sent shuffled',
    course: street(21097.5, 15),
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 8,
    burstsSec: [120, 600],
  },
  {
    name: 'leaves-course-and-returns',
    description: '10 km street, 6 m noise, 4 min 150 m off the course at 4 km, back at the same place',
    ...tenK,
    noiseM: 6,
    excursion: { atM: 4000, forSec: 240, awayM: 150 },
  },
  {
    name: 'detour-200m',
    description: '10 km street, 6 m noise, a 200 m detour to the side at 3 km (5 min), back at the same place',
    ...tenK,
    noiseM: 6,
    excursion: { atM: 3000, forSec: 300, awayM: 200 },
  },
  {
    name: 'walks-back-300m',
    description: '10 km street, 6 m noise, turns at 6 km, walks back 300 m, then runs on',
    ...tenK,
    noiseM: 6,
    walkBack: { atM: 6000, backM: 300 },
  },
  { name: 'stops-5min', description: '10 km street, 6 m noise, stops for 5 min at 6 km', ...tenK, noiseM: 6, stop: { atM: 6000, forSec: 300 } },
  { name: 'stops-10min', description: '10 km street, 8 m noise, stops for 10 min at 4 km', ...tenK, noiseM: 8, stop: { atM: 4000, forSec: 600 } },
  {
    name: 'stops-before-turnaround',
    description: '10 km out-and-back, 8 m noise, stops for 10 min 100 m before the turnaround (a drink station), where the way back runs 15 m away',
    ...tenK,
    noiseM: 8,
    stop: { atM: 4900, forSec: 600 },
  },
  {
    name: 'stops-short-of-finish',
    description: '10 km street, 8 m noise, stops 10 m before the line for 5 min, then crosses it',
    ...tenK,
    noiseM: 8,
    stop: { atM: 9990, forSec: 300 },
  },
  {
    name: 'stops-short-and-stays',
    description: '10 km street, 8 m noise, stops 10 m before the line and never crosses it (then the phone goes quiet)',
    ...tenK,
    noiseM: 8,
    stop: { atM: 9990, forSec: 900, forever: true },
  },
  {
    name: 'park-loop-leaves-and-returns',
    description: '32 km park loop, 6 m noise, 4 min 150 m off the loop at 10 km, back at the same place',
    course: loop32k,
    runners: 3,
    paceSecPerKm: [270, 420],
    intervalSec: 5,
    noiseM: 6,
    excursion: { atM: 10000, forSec: 240, awayM: 150 },
  },
  {
    name: 'stadium-track-gaps-60-600s',
    description: '10 km on the 400 m track, 8 m noise, a fix every 5 s with gaps of 60-600 s',
    course: track10k,
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 8,
    gapsSec: [60, 600],
  },
  {
    name: 'late-start-park-loop',
    description: '32 km park loop, 8 m noise, the runner (and their first fix) starts 10 min after the gun',
    course: loop32k,
    runners: 3,
    paceSecPerKm: [270, 420],
    intervalSec: 5,
    noiseM: 8,
    lateStartSec: 600,
  },
  {
    name: 'late-start-track',
    description: '10 km on the track, 8 m noise, the runner (and their first fix) starts 10 min after the gun',
    course: track10k,
    runners: 4,
    paceSecPerKm: [190, 400],
    intervalSec: 5,
    noiseM: 8,
    lateStartSec: 600,
  },
];

/** The truth: where a runner is each second, along the race and off it. */
export interface Truth {
  distanceAtSec: Float64Array;
  offsetAtSec: Float64Array;
  /** Metres past the finish line (down the chute, or on round the lap). */
  beyondAtSec: Float64Array;
  /** When the runner crossed the line (fractional seconds); -1 when they never do. */
  finishSec: number;
  /** The last second the phone sends a fix. */
  lastFixSec: number;
  afterFinish: AfterFinish;
}

export function simulateTruth(course: Course, scenario: Scenario, random: Random, afterFinish: AfterFinish = 'chute'): Truth {
  const [fast, slow] = scenario.paceSecPerKm;
  const baseSpeedMps = 1000 / random.between(fast, slow);
  const wobble = random.between(0.02, 0.06);
  const periodSec = random.between(300, 1200);
  const phase = random.between(0, 2 * Math.PI);
  const distances: number[] = [0];
  const offsets: number[] = [0];
  const beyond: number[] = [0];
  const lineM = course.raceDistanceM;
  let distanceM = 0;
  let finishSec = -1;
  let pauseLeftSec = 0;
  let pauseKind: 'stop' | 'excursion' | 'walk-back' | null = null;
  let pauseTotalSec = 0;
  let stopped = false;
  let excursed = false;
  let walkedBack = false;
  let walkBackLeftM = 0;
  let kickSec = 0;
  const startSec = scenario.lateStartSec ?? 0;
  // After the finish the runner stays near it, the phone still on, for at least two fix intervals.
  const afterFinishSec = Math.max(120, 2 * scenario.intervalSec);
  let endSec = Infinity;
  for (let t = 1; t < endSec; t++) {
    let offsetM = 0;
    let beyondM = 0;
    if (t <= startSec) {
      // Not started yet.
    } else if (pauseLeftSec > 0) {
      pauseLeftSec -= 1;
      if (pauseKind === 'excursion' && scenario.excursion) {
        // Out and back along a straight path.
        const progress = 1 - pauseLeftSec / pauseTotalSec;
        offsetM = scenario.excursion.awayM * (1 - Math.abs(2 * progress - 1));
      }
      if (pauseKind === 'stop' && scenario.stop?.forever && pauseLeftSec === 0) endSec = t;
    } else if (walkBackLeftM > 0) {
      const stepM = Math.min(WALK_MPS, walkBackLeftM);
      distanceM -= stepM;
      walkBackLeftM -= stepM;
    } else if (finishSec < 0) {
      let speed = baseSpeedMps * (1 + wobble * Math.sin((2 * Math.PI * t) / periodSec + phase));
      if (scenario.kick && distanceM >= lineM - scenario.kick.lastM) {
        kickSec += 1;
        speed *= 1 + scenario.kick.share * Math.min(1, kickSec / scenario.kick.overSec);
      }
      const previousM = distanceM;
      distanceM = Math.min(lineM, distanceM + speed);
      if (scenario.stop && !stopped && distanceM >= scenario.stop.atM) {
        stopped = true;
        distanceM = scenario.stop.atM;
        pauseKind = 'stop';
        pauseLeftSec = pauseTotalSec = scenario.stop.forSec;
      }
      if (scenario.excursion && !excursed && distanceM >= scenario.excursion.atM) {
        excursed = true;
        pauseKind = 'excursion';
        pauseLeftSec = pauseTotalSec = scenario.excursion.forSec;
      }
      if (scenario.walkBack && !walkedBack && distanceM >= scenario.walkBack.atM) {
        walkedBack = true;
        walkBackLeftM = scenario.walkBack.backM;
      }
      if (distanceM >= lineM) {
        finishSec = t - 1 + (lineM - previousM) / (distanceM - previousM || 1);
        endSec = t + (afterFinish === 'silent' ? 0 : afterFinishSec);
      }
    } else {
      const pastSec = t - finishSec;
      if (afterFinish === 'chute') beyondM = Math.min(pastSec, 30) * WALK_MPS;
      else if (afterFinish === 'stand') beyondM = Math.min(pastSec * WALK_MPS, 1.5);
      else if (afterFinish === 'run-on') beyondM = Math.min(pastSec, course.isLapped ? 40 : 25) * baseSpeedMps;
    }
    distances.push(distanceM);
    offsets.push(offsetM);
    beyond.push(beyondM);
    if (t > 6 * 3600 * 24) throw new Error('the simulated runner never finishes');
  }
  return {
    distanceAtSec: Float64Array.from(distances),
    offsetAtSec: Float64Array.from(offsets),
    beyondAtSec: Float64Array.from(beyond),
    finishSec,
    lastFixSec: afterFinish === 'silent' && finishSec >= 0 ? Math.min(finishSec + 2, distances.length - 1) : distances.length - 1,
    afterFinish,
  };
}

/** When the truth first reached a distance (fractional seconds), or null. */
export function truthTimeAt(truth: Truth, pointM: number): number | null {
  const d = truth.distanceAtSec;
  for (let t = 1; t < d.length; t++) {
    if (d[t]! >= pointM && d[t - 1]! < pointM) return t - 1 + (pointM - d[t - 1]!) / (d[t]! - d[t - 1]!);
  }
  return null;
}

export interface SimulatedFix {
  fix: Fix;
  recordedSec: number;
  deliveredSec: number;
  order: number;
}

export function simulateFixes(course: Course, scenario: Scenario, truth: Truth, random: Random, reportsSpeed: boolean): SimulatedFix[] {
  const { path } = course;
  const lastSec = Math.min(truth.distanceAtSec.length - 1, Math.floor(truth.lastFixSec));
  // Stretches without fixes, and stretches offline whose fixes arrive together at their end.
  const gaps: Array<[number, number]> = [];
  const bursts: Array<[number, number]> = [];
  const crossSec = truth.finishSec >= 0 ? truth.finishSec : lastSec;
  const stretches = (range: [number, number], into: Array<[number, number]>) => {
    for (let t = random.between(300, 900); t < lastSec; ) {
      const length = random.between(range[0], range[1]);
      // The phone is back before the end, so every runner is seen crossing the finish.
      if (t + length > crossSec - 60) break;
      into.push([t, t + length]);
      t += length + random.between(600, 1500);
    }
  };
  if (scenario.gapsSec) stretches(scenario.gapsSec, gaps);
  if (scenario.burstsSec) stretches(scenario.burstsSec, bursts);
  const lineM = course.raceDistanceM;
  const endBearing = path.bearingAtRaceDistance(lineM);
  const endPoint = path.pointAtRaceDistance(lineM);
  const pointAt = (second: number): LonLat => {
    const distanceM = truth.distanceAtSec[second]!;
    const beyondM = truth.beyondAtSec[second]!;
    let point = beyondM > 0 ? (course.isLapped ? path.pointAtRaceDistance(lineM + beyondM) : (path.ruler.destination(endPoint, beyondM, endBearing) as LonLat)) : path.pointAtRaceDistance(distanceM);
    const offsetM = truth.offsetAtSec[second]!;
    if (offsetM > 0) {
      const ahead = path.pointAtRaceDistance(Math.min(distanceM + 1, lineM));
      const bearing = path.ruler.bearing(path.pointAtRaceDistance(distanceM), ahead);
      point = path.ruler.destination(point, offsetM, bearing - 90) as LonLat;
    }
    return point;
  };

  const fixes: SimulatedFix[] = [];
  let bias: { untilSec: number; east: number; north: number } | null = null;
  const firstSec = (scenario.lateStartSec ?? 0) + random.between(0, scenario.intervalSec);
  const times: number[] = [];
  for (let t = firstSec; t <= lastSec; t += scenario.intervalSec) times.push(t);
  // A runner who stops their phone at the line sends one last fix there.
  if (truth.afterFinish === 'silent' && truth.finishSec >= 0 && times[times.length - 1]! < truth.lastFixSec - 0.5) times.push(truth.lastFixSec);
  for (const t of times) {
    if (gaps.some(([a, b]) => t >= a && t < b)) continue;
    const second = Math.min(lastSec, Math.round(t));
    const point = pointAt(second);
    const previousPoint = pointAt(Math.max(0, second - 1));
    // Doppler speed and heading: the phone's true motion over the last second.
    const dx = (point[0] - previousPoint[0]) * path.ruler.kx;
    const dy = (point[1] - previousPoint[1]) * path.ruler.ky;
    const speedMps = Math.max(0, Math.hypot(dx, dy) + random.gaussian(0.3));
    const headingDeg = Math.hypot(dx, dy) > 0.1 ? ((((Math.atan2(dx, dy) * 180) / Math.PI + random.gaussian(8)) % 360) + 360) % 360 : random.between(0, 360);
    let [lon, lat] = path.ruler.offset(point, random.gaussian(scenario.noiseM), random.gaussian(scenario.noiseM)) as LonLat;
    if (scenario.outlierShare && random.next() < scenario.outlierShare) {
      [lon, lat] = path.ruler.destination([lon, lat], random.between(50, 150), random.between(0, 360)) as LonLat;
    }
    if (scenario.multipath) {
      if (bias && t >= bias.untilSec) bias = null;
      if (!bias && random.next() < scenario.multipath.startShare) {
        const angle = random.between(0, 2 * Math.PI);
        bias = { untilSec: t + scenario.multipath.forSec, east: Math.sin(angle) * scenario.multipath.biasM, north: Math.cos(angle) * scenario.multipath.biasM };
      }
      if (bias) [lon, lat] = path.ruler.offset([lon, lat], bias.east, bias.north) as LonLat;
    }
    const burst = bursts.find(([a, b]) => t >= a && t < b);
    const fix: Fix = { lon, lat, recordedAtMs: Math.round(t * 1000) };
    if (scenario.reportsAccuracy !== false) fix.accuracyM = Math.max(3, Math.round(scenario.noiseM * 1.5));
    if (reportsSpeed) {
      fix.speedMps = Math.round(speedMps * 10) / 10;
      fix.headingDeg = Math.round(headingDeg);
    }
    fixes.push({ fix, recordedSec: t, deliveredSec: burst ? burst[1] : t, order: burst ? random.next() : 0 });
  }
  return fixes.sort((a, b) => a.deliveredSec - b.deliveredSec || a.order - b.order);
}

export interface Figures {
  fixes: number;
  within20Share: number;
  p99ErrorM: number;
  maxErrorM: number;
  /** The furthest the published distance was ahead of the truth (a runner who stopped shown running on), m. */
  maxAheadM: number;
  /** Share of fixes on a lapped course, away from the lap line, given the right lap; null for a street course. */
  lapsExactShare: number | null;
  falseFinishes: number;
  backwardSteps: number;
  /** Runners who crossed the line, and how many of them were shown finished. */
  crossed: number;
  finishedRunners: number;
  runners: number;
  /** Finish times: how many were shown, the largest error (s), and how many missed their bound. */
  finishTimeMaxErrorSec: number;
  finishTimesOff: number;
  /** Crossing times at the timing points before the finish: how many, largest error, how many off. */
  crossingTimes: number;
  crossingMaxErrorSec: number;
  crossingTimesOff: number;
}

interface Tally {
  errors: number[];
  maxAheadM: number;
  lapChecks: number;
  lapsRight: number;
  falseFinishes: number;
  backwardSteps: number;
  crossed: number;
  finished: number;
  runners: number;
  finishMaxErrorSec: number;
  finishOff: number;
  crossings: number;
  crossingMaxErrorSec: number;
  crossingOff: number;
  misses: string[];
}

const newTally = (): Tally => ({
  errors: [],
  maxAheadM: 0,
  lapChecks: 0,
  lapsRight: 0,
  falseFinishes: 0,
  backwardSteps: 0,
  crossed: 0,
  finished: 0,
  runners: 0,
  finishMaxErrorSec: 0,
  finishOff: 0,
  crossings: 0,
  crossingMaxErrorSec: 0,
  crossingOff: 0,
  misses: [],
});

function figures(t: Tally, lapped: boolean): Figures {
  const sorted = Float64Array.from(t.errors).sort();
  const within = t.errors.filter((e) => e <= ACCURATE_WITHIN_M).length;
  return {
    fixes: t.errors.length,
    within20Share: t.errors.length ? within / t.errors.length : 1,
    p99ErrorM: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : 0,
    maxErrorM: sorted.length ? sorted[sorted.length - 1]! : 0,
    maxAheadM: t.maxAheadM,
    lapsExactShare: lapped ? (t.lapChecks ? t.lapsRight / t.lapChecks : 1) : null,
    falseFinishes: t.falseFinishes,
    backwardSteps: t.backwardSteps,
    crossed: t.crossed,
    finishedRunners: t.finished,
    runners: t.runners,
    finishTimeMaxErrorSec: t.finishMaxErrorSec,
    finishTimesOff: t.finishOff,
    crossingTimes: t.crossings,
    crossingMaxErrorSec: t.crossingMaxErrorSec,
    crossingTimesOff: t.crossingOff,
  };
}

interface RunState {
  previousM: number;
  falseFinish: boolean;
}

/** Records one published position against the truth (the furthest the runner had got by the newest fix). */
function record(tally: Tally, course: Course, publishedM: number, truthM: number, finished: boolean, state: RunState, where: string): void {
  const errorM = Math.abs(publishedM - truthM);
  tally.errors.push(errorM);
  tally.maxAheadM = Math.max(tally.maxAheadM, publishedM - truthM);
  if (errorM > 50 && tally.misses.length < 400) tally.misses.push(`${where}: published ${publishedM.toFixed(0)} m, truth ${truthM.toFixed(0)} m`);
  if (publishedM < state.previousM - 1e-9) tally.backwardSteps++;
  state.previousM = publishedM;
  if (finished && truthM < course.raceDistanceM - FALSE_FINISH_SHORT_M && !state.falseFinish) {
    state.falseFinish = true;
    tally.falseFinishes++;
    tally.misses.push(`${where}: false finish at truth ${truthM.toFixed(1)} m`);
  }
  if (course.isLapped) {
    const intoLapM = (((truthM + course.startOffsetM) % course.lapLengthM) + course.lapLengthM) % course.lapLengthM;
    const nearLine = intoLapM < ACCURATE_WITHIN_M || intoLapM > course.lapLengthM - ACCURATE_WITHIN_M;
    if (!nearLine && truthM < course.raceDistanceM - ACCURATE_WITHIN_M) {
      tally.lapChecks++;
      const lap = (m: number) => lapNumber(m, course.lapLengthM, course.raceDistanceM, course.startOffsetM);
      if (lap(publishedM) === lap(truthM)) tally.lapsRight++;
      else if (tally.misses.length < 400) tally.misses.push(`${where}: lap ${lap(publishedM)}, truly ${lap(truthM)}`);
    }
  }
}

export interface ScenarioResult {
  scenario: string;
  variant: Variant;
  description: string;
  engine: Figures;
  naive: Figures;
  /** What missed: a line per runner and fix that did. */
  misses: string[];
}

export type Variant = 'speed' | 'no speed';
export const VARIANTS: Variant[] = ['speed', 'no speed'];

/** The naive baseline: Turf's nearest point on the whole race line (laps unrolled), no memory. */
class NaiveBaseline {
  private readonly line;
  private readonly officialPerTurfM: number;
  constructor(private readonly course: Course) {
    const laps = Math.ceil(course.raceDistanceM / course.lapLengthM);
    const coordinates: number[][] = [];
    for (let lap = 0; lap < laps; lap++) {
      const lapCoords = course.path.coordinates.slice(lap === 0 ? 0 : 1);
      for (const c of lapCoords) coordinates.push([c[0], c[1]]);
    }
    this.line = turf.lineString(coordinates);
    this.officialPerTurfM = (laps * course.lapLengthM) / turf.length(this.line, { units: 'meters' });
  }
  place(fix: Fix): number {
    const nearest = turf.nearestPointOnLine(this.line, [fix.lon, fix.lat], { units: 'meters' });
    return Math.min(this.course.raceDistanceM, nearest.properties.totalDistance * this.officialPerTurfM);
  }
}

/** How far a finish or crossing time may be off: 5 s for fixes every 10 s or more often, else one fix interval. */
export function timeBoundSec(intervalSec: number): number {
  return intervalSec <= 10 ? TIME_WITHIN_SEC : intervalSec;
}

export function runScenario(
  scenario: Scenario,
  seed: number,
  naiveSample = 300,
  variant: Variant = 'speed',
  engineOptions: EngineOptions = defaultEngineOptions,
): ScenarioResult {
  const course = scenario.course();
  const random = seededRandom(seed);
  const engine = newTally();
  const naive = newTally();
  const reportsSpeed = variant === 'speed' && scenario.reportsSpeed !== false;
  const runs = Array.from({ length: scenario.runners }, (_, r) => {
    const truth = simulateTruth(course, scenario, random, afterFinishOf(scenario, r + seed));
    return { truth, fixes: simulateFixes(course, scenario, truth, random, reportsSpeed) };
  });
  const totalFixes = runs.reduce((n, r) => n + r.fixes.length, 0);
  const naiveEvery = naiveSample > 0 ? Math.max(1, Math.floor(totalFixes / naiveSample)) : Infinity;
  const baseline = naiveSample > 0 ? new NaiveBaseline(course) : null;
  const boundSec = timeBoundSec(scenario.intervalSec);
  let counter = 0;
  for (const [r, run] of runs.entries()) {
    const id = `r${r}`;
    const tracker = new RaceTracker('evaluation', course, 0, [{ participantId: id, bib: String(r), name: `Runner ${r}` }], engineOptions);
    const engineState: RunState = { previousM: 0, falseFinish: false };
    const naiveState: RunState = { previousM: 0, falseFinish: false };
    const where = `${scenario.name} (${variant}) seed ${seed} runner ${r} [${run.truth.afterFinish}]`;
    let newestSec = 0;
    let furthestM = 0;
    engine.runners++;
    naive.runners++;
    const furthestBy = (sec: number) => {
      const d = run.truth.distanceAtSec;
      for (let s = Math.floor(newestSec); s <= Math.min(d.length - 1, Math.round(sec)); s++) furthestM = Math.max(furthestM, d[s]!);
      return furthestM;
    };
    for (const { fix, recordedSec } of run.fixes) {
      // A tick just before the fix arrives: silence is judged on the race's clock, the newest fix.
      for (const p of tracker.silentFinishes(fix.recordedAtMs)) tracker.finishBySilence(p, fix.recordedAtMs);
      const truthM = furthestBy(Math.max(newestSec, recordedSec));
      newestSec = Math.max(newestSec, recordedSec);
      const result = tracker.applyFix(id, fix);
      // After the finish only the fixes that show it count; a runner standing at the line for
      // minutes would otherwise pad the figures with easy zeros.
      if (run.truth.finishSec >= 0 && newestSec > run.truth.finishSec + Math.max(60, scenario.intervalSec)) continue;
      record(engine, course, result.distanceAlongRaceM, truthM, result.status === RunnerStatus.finished, engineState, `${where} at ${recordedSec.toFixed(0)} s`);
      if (baseline && counter++ % naiveEvery === 0) {
        const naiveM = baseline.place(fix);
        record(naive, course, naiveM, truthM, naiveM >= course.raceDistanceM - 3, naiveState, where);
      }
    }
    // The phone has gone quiet: the race's clock runs on (ticks every 10 s for 20 minutes).
    const lastMs = run.fixes.reduce((m, f) => Math.max(m, f.fix.recordedAtMs), 0);
    for (let nowMs = lastMs + 10_000; nowMs <= lastMs + 20 * 60_000; nowMs += 10_000) {
      for (const p of tracker.silentFinishes(nowMs)) tracker.finishBySilence(p, nowMs);
    }
    const state = tracker.runnerState(id)!;
    const shownFinished = state.status === RunnerStatus.finished;
    const crossed = run.truth.finishSec >= 0;
    if (shownFinished && !crossed && !engineState.falseFinish) {
      engine.falseFinishes++;
      engine.misses.push(`${where}: shown finished after the data ended, never crossed`);
    }
    if (crossed) {
      engine.crossed++;
      naive.crossed++;
      if (shownFinished) {
        engine.finished++;
        const errorSec = Math.abs(state.finishedAtMs! / 1000 - run.truth.finishSec);
        engine.finishMaxErrorSec = Math.max(engine.finishMaxErrorSec, errorSec);
        if (errorSec > boundSec) {
          engine.finishOff++;
          engine.misses.push(`${where}: finish time off by ${errorSec.toFixed(1)} s`);
        }
      } else {
        engine.misses.push(`${where}: crossed the line, not shown finished (published ${state.distanceAlongRaceM.toFixed(1)} m)`);
      }
      if (naiveState.previousM >= course.raceDistanceM - 3) naive.finished++;
    }
    // Crossing times at the timing points before the finish.
    const recordedTimes = run.fixes.map((f) => f.recordedSec).sort((a, b) => a - b);
    for (const [k, point] of tracker.timingPoints.entries()) {
      if (point.kind === 'finish') continue;
      const truthSec = truthTimeAt(run.truth, point.distanceAlongRaceM);
      const packed = state.crossings[k];
      if (truthSec === null) continue;
      if (packed === undefined) {
        if (shownFinished) engine.misses.push(`${where}: no crossing time at ${point.name}`);
        continue;
      }
      const at = unpackCrossing(packed);
      if (!at) continue;
      engine.crossings++;
      const errorSec = Math.abs(at.atMs / 1000 - truthSec);
      engine.crossingMaxErrorSec = Math.max(engine.crossingMaxErrorSec, errorSec);
      // Within one fix interval: the interval of the fixes either side of the crossing (a gap, when it fell in one).
      const before = recordedTimes.filter((t) => t <= truthSec).pop() ?? 0;
      const after = recordedTimes.find((t) => t > truthSec) ?? before;
      if (errorSec > Math.max(boundSec, after - before)) {
        engine.crossingOff++;
        if (engine.misses.length < 400) engine.misses.push(`${where}: ${point.name} time off by ${errorSec.toFixed(1)} s`);
      }
    }
  }
  return {
    scenario: scenario.name,
    variant,
    description: scenario.description,
    engine: figures(engine, course.isLapped),
    naive: figures(naive, course.isLapped),
    misses: engine.misses,
  };
}

/** The targets of the course engine, and which results miss them. */
export function missedTargets(results: ScenarioResult[]): string[] {
  const missed: string[] = [];
  for (const { scenario, variant, engine } of results) {
    const name = `${scenario} (${variant})`;
    if (engine.within20Share < 0.995) missed.push(`${name}: ${(engine.within20Share * 100).toFixed(2)}% within 20 m (target 99.5%)`);
    if (engine.lapsExactShare !== null && engine.lapsExactShare < 1) missed.push(`${name}: laps exact ${(engine.lapsExactShare * 100).toFixed(2)}%`);
    if (engine.falseFinishes > 0) missed.push(`${name}: ${engine.falseFinishes} false finishes`);
    if (engine.backwardSteps > 0) missed.push(`${name}: ${engine.backwardSteps} backward steps`);
    if (engine.finishedRunners < engine.crossed) missed.push(`${name}: ${engine.crossed - engine.finishedRunners} of ${engine.crossed} runners who crossed the line not shown finished`);
    if (engine.finishTimesOff > 0) missed.push(`${name}: ${engine.finishTimesOff} finish times out of bounds (worst ${engine.finishTimeMaxErrorSec.toFixed(1)} s)`);
    if (engine.crossingTimesOff > 0) missed.push(`${name}: ${engine.crossingTimesOff} of ${engine.crossingTimes} crossing times out of bounds (worst ${engine.crossingMaxErrorSec.toFixed(1)} s)`);
  }
  return missed;
}

export function formatTable(results: ScenarioResult[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const m = (x: number) => x.toFixed(1);
  const header = ['scenario', 'speed', 'fixes', 'within 20 m', 'p99 m', 'max m', 'laps exact', 'false fin.', 'backward', 'finished', 'finish s', 'splits s'];
  const rows = results.map(({ scenario, variant, engine: e, naive: n }) => [
    scenario,
    variant === 'speed' ? 'yes' : 'no',
    `${e.fixes} / ${n.fixes}`,
    `${pct(e.within20Share)} / ${pct(n.within20Share)}`,
    `${m(e.p99ErrorM)} / ${m(n.p99ErrorM)}`,
    `${m(e.maxErrorM)} / ${m(n.maxErrorM)}`,
    e.lapsExactShare === null ? '-' : `${pct(e.lapsExactShare)} / ${pct(n.lapsExactShare!)}`,
    `${e.falseFinishes} / ${n.falseFinishes}`,
    `${e.backwardSteps} / ${n.backwardSteps}`,
    `${e.finishedRunners}/${e.crossed} / ${n.finishedRunners}/${n.crossed}`,
    e.finishedRunners > 0 ? m(e.finishTimeMaxErrorSec) : '-',
    e.crossingTimes > 0 ? `${m(e.crossingMaxErrorSec)} (${e.crossingTimes})` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    'each cell: engine / naive baseline (turf.nearestPointOnLine on the whole race line, a sample of the fixes);',
    '"finished": shown finished / crossed the line; "finish s", "splits s": the largest error of the finish times and of the crossing times (how many)',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
