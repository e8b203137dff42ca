// The course engine's accuracy evaluation: seeded scenarios of runners with noisy GPS, run
// through the race tracker and through the naive baseline (Turf's nearest point on the whole
// race line), measured against the ground truth. `npm run sim -- accuracy` prints the table.
import * as turf from '@turf/turf';
import { lapNumber, type LonLat } from '../shared/course-path.ts';
import { RunnerStatus } from '../shared/protocol.ts';
import { buildCourse, type Course, type CourseDefinition } from '../server/core/course.ts';
import { defaultEngineOptions, RaceTracker, type EngineOptions, type Fix } from '../server/core/race-tracker.ts';
import { outAndBack, parkLoop } from './course-shapes.ts';
import { seededRandom, type Random } from './random.ts';

/** A fix within this of the true distance along the race counts as accurate. */
export const ACCURATE_WITHIN_M = 20;
/** A finish shown while the runner is more than this short of the line is a false finish. */
export const FALSE_FINISH_SHORT_M = 3;
const WALK_MPS = 1.2;

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
  /** Stretches without any fix (tunnels, a phone in a bag), seconds. */
  gapsSec?: [number, number];
  /** The phone is offline for stretches of this length and sends what it buffered in a burst, shuffled. */
  burstsSec?: [number, number];
  /** The runner stops on the course for this long, at the given distance. */
  stop?: { atM: number; forSec: number };
  /** The runner leaves the course at a distance, goes `awayM` off and comes back at the same place. */
  excursion?: { atM: number; forSec: number; awayM: number };
  /** Whether fixes carry the phone's speed and heading, as every supported tracker app sends. */
  reportsSpeed?: boolean;
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

const stops: Scenario = {
    name: 'stops',
    description: '10 km street, 6 m noise, stops for 5 min at 6 km',
    course: street(10000, 15),
    runners: 4,
    paceSecPerKm: [200, 420],
    intervalSec: 5,
    noiseM: 6,
    stop: { atM: 6000, forSec: 300 },
  };

const stopsShortOfFinish: Scenario = {
    name: 'stops-short-of-finish',
    description: '10 km street, 8 m noise, stops 10 m before the line for 5 min, then crosses it',
    course: street(10000, 15),
    runners: 4,
    paceSecPerKm: [200, 420],
    intervalSec: 5,
    noiseM: 8,
    stop: { atM: 9990, forSec: 300 },
  };

/** The same scenario with fixes that carry no speed or heading (a browser without them). */
function withoutSpeed(scenario: Scenario, name: string): Scenario {
  return { ...scenario, name, description: `as "${scenario.name}", with fixes that carry no speed or heading`, reportsSpeed: false };
}

export const scenarios: Scenario[] = [
  ...[10, 15, 20].flatMap((gapM) =>
    [5, 8, 12].map(
      (noiseM): Scenario => ({
        name: `out-and-back-${gapM}m-noise-${noiseM}m`,
        description: `10 km out-and-back, legs ${gapM} m apart, ${noiseM} m noise, a fix every 5 s`,
        course: street(10000, gapM),
        runners: 4,
        paceSecPerKm: [200, 420],
        intervalSec: 5,
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
    name: 'urban-canyon-outliers',
    description: '10 km street, 6 m noise, 5% of fixes thrown 50-150 m off',
    course: street(10000, 15),
    runners: 4,
    paceSecPerKm: [200, 420],
    intervalSec: 5,
    noiseM: 6,
    outlierShare: 0.05,
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
    course: street(10000, 15),
    runners: 4,
    paceSecPerKm: [200, 420],
    intervalSec: 5,
    noiseM: 6,
    excursion: { atM: 4000, forSec: 240, awayM: 150 },
  },
  stops,
  stopsShortOfFinish,
  withoutSpeed(stopsShortOfFinish, 'stops-short-of-finish-no-speed'),
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
  withoutSpeed(stops, 'stops-no-speed-reported'),
];

/** The truth: where a runner is each second, along the race and off it. */
export interface Truth {
  distanceAtSec: Float64Array;
  offsetAtSec: Float64Array;
  /** Metres walked past the finish line (down the finish chute). */
  beyondAtSec: Float64Array;
  finishSec: number;
}

export function simulateTruth(course: Course, scenario: Scenario, random: Random): Truth {
  const [fast, slow] = scenario.paceSecPerKm;
  const baseSpeedMps = 1000 / random.between(fast, slow);
  const wobble = random.between(0.02, 0.06);
  const periodSec = random.between(300, 1200);
  const phase = random.between(0, 2 * Math.PI);
  const distances: number[] = [0];
  const offsets: number[] = [0];
  const beyond: number[] = [0];
  let distanceM = 0;
  let finishSec = -1;
  let pauseLeftSec = 0;
  let pauseKind: 'stop' | 'excursion' | null = null;
  let pauseTotalSec = 0;
  let stopped = false;
  let excursed = false;
  // After the finish the runner stays near it, the phone still on, for at least two fix intervals.
  const afterFinishSec = Math.max(120, 2 * scenario.intervalSec);
  for (let t = 1; finishSec < 0 || t < finishSec + afterFinishSec; t++) {
    let offsetM = 0;
    if (pauseLeftSec > 0) {
      pauseLeftSec -= 1;
      if (pauseKind === 'excursion' && scenario.excursion) {
        // Out and back along a straight path, at walking pace.
        const progress = 1 - pauseLeftSec / pauseTotalSec;
        offsetM = scenario.excursion.awayM * (1 - Math.abs(2 * progress - 1));
      }
    } else if (finishSec < 0) {
      const speed = baseSpeedMps * (1 + wobble * Math.sin((2 * Math.PI * t) / periodSec + phase));
      distanceM = Math.min(course.raceDistanceM, distanceM + speed);
      if (scenario.stop && !stopped && distanceM >= scenario.stop.atM) {
        stopped = true;
        pauseKind = 'stop';
        pauseLeftSec = pauseTotalSec = scenario.stop.forSec;
      }
      if (scenario.excursion && !excursed && distanceM >= scenario.excursion.atM) {
        excursed = true;
        pauseKind = 'excursion';
        pauseLeftSec = pauseTotalSec = scenario.excursion.forSec;
      }
      if (distanceM >= course.raceDistanceM) finishSec = t;
    }
    distances.push(distanceM);
    offsets.push(offsetM);
    // Past the line the runner walks on down the finish chute for half a minute, then stands.
    beyond.push(finishSec < 0 ? 0 : Math.min(t - finishSec, 30) * WALK_MPS);
  }
  return {
    distanceAtSec: Float64Array.from(distances),
    offsetAtSec: Float64Array.from(offsets),
    beyondAtSec: Float64Array.from(beyond),
    finishSec,
  };
}

export interface SimulatedFix {
  fix: Fix;
  recordedSec: number;
  deliveredSec: number;
  order: number;
}

export function simulateFixes(course: Course, scenario: Scenario, truth: Truth, random: Random): SimulatedFix[] {
  const { path } = course;
  const lastSec = truth.distanceAtSec.length - 1;
  // Stretches without fixes, and stretches offline whose fixes arrive together at their end.
  const gaps: Array<[number, number]> = [];
  const bursts: Array<[number, number]> = [];
  const stretches = (range: [number, number], into: Array<[number, number]>) => {
    for (let t = random.between(300, 900); t < lastSec; ) {
      const length = random.between(range[0], range[1]);
      // The phone is back before the end, so every runner is seen crossing the finish.
      if (t + length > truth.finishSec) break;
      into.push([t, t + length]);
      t += length + random.between(600, 1500);
    }
  };
  if (scenario.gapsSec) stretches(scenario.gapsSec, gaps);
  if (scenario.burstsSec) stretches(scenario.burstsSec, bursts);

  const fixes: SimulatedFix[] = [];
  for (let t = random.between(0, scenario.intervalSec); t <= lastSec; t += scenario.intervalSec) {
    if (gaps.some(([a, b]) => t >= a && t < b)) continue;
    const second = Math.min(lastSec, Math.round(t));
    const distanceM = truth.distanceAtSec[second]!;
    let point = path.pointAtRaceDistance(distanceM);
    const offsetM = truth.offsetAtSec[second]!;
    const beyondM = truth.beyondAtSec[second]!;
    if (beyondM > 0) {
      point = course.isLapped
        ? path.pointAtRaceDistance(course.raceDistanceM + beyondM)
        : (path.ruler.destination(point, beyondM, path.bearingAtRaceDistance(course.raceDistanceM)) as LonLat);
    }
    if (offsetM > 0) {
      const ahead = path.pointAtRaceDistance(Math.min(distanceM + 1, course.raceDistanceM));
      const bearing = path.ruler.bearing(point, ahead);
      point = path.ruler.destination(point, offsetM, bearing - 90) as LonLat;
    }
    // Doppler speed and heading: along the course, or across it while the runner is off it.
    const previous = Math.max(0, second - 1);
    const courseBearing = path.bearingAtRaceDistance(distanceM);
    const alongMps =
      truth.distanceAtSec[second]! - truth.distanceAtSec[previous]! + truth.beyondAtSec[second]! - truth.beyondAtSec[previous]!;
    const acrossMps = truth.offsetAtSec[second]! - truth.offsetAtSec[previous]!;
    const speedMps = Math.max(0, Math.hypot(alongMps, acrossMps) + random.gaussian(0.3));
    const headingDeg = (((Math.atan2(-acrossMps, alongMps) * 180) / Math.PI + courseBearing + random.gaussian(8)) % 360 + 360) % 360;
    let [lon, lat] = path.ruler.offset(point, random.gaussian(scenario.noiseM), random.gaussian(scenario.noiseM)) as LonLat;
    if (scenario.outlierShare && random.next() < scenario.outlierShare) {
      [lon, lat] = path.ruler.destination([lon, lat], random.between(50, 150), random.between(0, 360)) as LonLat;
    }
    const burst = bursts.find(([a, b]) => t >= a && t < b);
    const fix: Fix = { lon, lat, recordedAtMs: Math.round(t * 1000), accuracyM: Math.max(3, Math.round(scenario.noiseM * 1.5)) };
    if (scenario.reportsSpeed !== false) {
      fix.speedMps = Math.round(speedMps * 10) / 10;
      fix.headingDeg = Math.round(headingDeg);
    }
    fixes.push({
      fix,
      recordedSec: t,
      deliveredSec: burst ? burst[1] : t,
      order: burst ? random.next() : 0,
    });
  }
  return fixes.sort((a, b) => a.deliveredSec - b.deliveredSec || a.order - b.order);
}

export interface Figures {
  fixes: number;
  within20Share: number;
  p99ErrorM: number;
  maxErrorM: number;
  /** Share of fixes on a lapped course, away from the lap line, given the right lap; null for a street course. */
  lapsExactShare: number | null;
  falseFinishes: number;
  backwardSteps: number;
  finishedRunners: number;
  runners: number;
}

interface Tally {
  errors: number[];
  lapChecks: number;
  lapsRight: number;
  falseFinishes: number;
  backwardSteps: number;
  finished: number;
  runners: number;
}

const newTally = (): Tally => ({ errors: [], lapChecks: 0, lapsRight: 0, falseFinishes: 0, backwardSteps: 0, finished: 0, runners: 0 });

function figures(t: Tally, lapped: boolean): Figures {
  const sorted = Float64Array.from(t.errors).sort();
  const within = t.errors.filter((e) => e <= ACCURATE_WITHIN_M).length;
  return {
    fixes: t.errors.length,
    within20Share: t.errors.length ? within / t.errors.length : 1,
    p99ErrorM: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : 0,
    maxErrorM: sorted.length ? sorted[sorted.length - 1]! : 0,
    lapsExactShare: lapped ? (t.lapChecks ? t.lapsRight / t.lapChecks : 1) : null,
    falseFinishes: t.falseFinishes,
    backwardSteps: t.backwardSteps,
    finishedRunners: t.finished,
    runners: t.runners,
  };
}

/** Records one published position against the truth at the newest fix applied so far. */
function record(tally: Tally, course: Course, publishedM: number, truthM: number, finished: boolean, state: { previousM: number; falseFinish: boolean }) {
  tally.errors.push(Math.abs(publishedM - truthM));
  if (publishedM < state.previousM - 1e-9) tally.backwardSteps++;
  state.previousM = publishedM;
  if (finished && truthM < course.raceDistanceM - FALSE_FINISH_SHORT_M && !state.falseFinish) {
    state.falseFinish = true;
    tally.falseFinishes++;
  }
  if (course.isLapped) {
    const intoLapM = truthM % course.lapLengthM;
    const nearLine = intoLapM < ACCURATE_WITHIN_M || intoLapM > course.lapLengthM - ACCURATE_WITHIN_M;
    if (!nearLine && truthM < course.raceDistanceM - ACCURATE_WITHIN_M) {
      tally.lapChecks++;
      const lap = (m: number) => lapNumber(m, course.lapLengthM, course.raceDistanceM);
      if (lap(publishedM) === lap(truthM)) tally.lapsRight++;
    }
  }
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  engine: Figures;
  naive: Figures;
}

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

export function runScenario(scenario: Scenario, seed: number, naiveSample = 300, engineOptions: EngineOptions = defaultEngineOptions): ScenarioResult {
  const course = scenario.course();
  const random = seededRandom(seed);
  const engine = newTally();
  const naive = newTally();
  const runs = Array.from({ length: scenario.runners }, () => {
    const truth = simulateTruth(course, scenario, random);
    return { truth, fixes: simulateFixes(course, scenario, truth, random) };
  });
  const totalFixes = runs.reduce((n, r) => n + r.fixes.length, 0);
  const naiveEvery = Math.max(1, Math.floor(totalFixes / naiveSample));
  const baseline = new NaiveBaseline(course);
  let counter = 0;
  for (const [r, run] of runs.entries()) {
    const tracker = new RaceTracker('evaluation', course, 0, [{ participantId: `r${r}`, bib: String(r), name: `Runner ${r}` }], engineOptions);
    const engineState = { previousM: 0, falseFinish: false };
    const naiveState = { previousM: 0, falseFinish: false };
    let newestSec = 0;
    engine.runners++;
    naive.runners++;
    for (const { fix, recordedSec } of run.fixes) {
      newestSec = Math.max(newestSec, recordedSec);
      const truthM = run.truth.distanceAtSec[Math.min(run.truth.distanceAtSec.length - 1, Math.round(newestSec))]!;
      const result = tracker.applyFix(`r${r}`, fix);
      // After the finish only the fixes that show it count; a runner standing at the line for
      // minutes would otherwise pad the figures with easy zeros.
      if (newestSec > run.truth.finishSec + Math.max(60, scenario.intervalSec)) continue;
      record(engine, course, result.distanceAlongRaceM, truthM, result.status === RunnerStatus.finished, engineState);
      if (counter++ % naiveEvery === 0) {
        const naiveM = baseline.place(fix);
        record(naive, course, naiveM, truthM, naiveM >= course.raceDistanceM - 3, naiveState);
      }
    }
    if (tracker.runnerState(`r${r}`)!.status === RunnerStatus.finished) engine.finished++;
    if (naiveState.previousM >= course.raceDistanceM - 3) naive.finished++;
  }
  return { scenario: scenario.name, description: scenario.description, engine: figures(engine, course.isLapped), naive: figures(naive, course.isLapped) };
}

/** The targets of the course engine, and which results miss them. */
export function missedTargets(results: ScenarioResult[]): string[] {
  const missed: string[] = [];
  for (const { scenario, engine } of results) {
    if (engine.within20Share < 0.995) missed.push(`${scenario}: ${(engine.within20Share * 100).toFixed(2)}% within 20 m (target 99.5%)`);
    if (engine.lapsExactShare !== null && engine.lapsExactShare < 1) missed.push(`${scenario}: laps exact ${(engine.lapsExactShare * 100).toFixed(2)}%`);
    if (engine.falseFinishes > 0) missed.push(`${scenario}: ${engine.falseFinishes} false finishes`);
    if (engine.backwardSteps > 0) missed.push(`${scenario}: ${engine.backwardSteps} backward steps`);
  }
  return missed;
}

export function formatTable(results: ScenarioResult[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const m = (x: number) => x.toFixed(1);
  const header = ['scenario', 'fixes', 'within 20 m', 'p99 m', 'max m', 'laps exact', 'false fin.', 'backward', 'finished'];
  const rows = results.map(({ scenario, engine: e, naive: n }) => [
    scenario,
    `${e.fixes} / ${n.fixes}`,
    `${pct(e.within20Share)} / ${pct(n.within20Share)}`,
    `${m(e.p99ErrorM)} / ${m(n.p99ErrorM)}`,
    `${m(e.maxErrorM)} / ${m(n.maxErrorM)}`,
    e.lapsExactShare === null ? '-' : `${pct(e.lapsExactShare)} / ${pct(n.lapsExactShare!)}`,
    `${e.falseFinishes} / ${n.falseFinishes}`,
    `${e.backwardSteps} / ${n.backwardSteps}`,
    `${e.finishedRunners}/${e.runners} / ${n.finishedRunners}/${n.runners}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    'each cell: engine / naive baseline (turf.nearestPointOnLine on the whole race line, a sample of the fixes)',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
