// How well the predicted arrival (shared/eta.ts) holds: seeded runners on the marathon and on the
// 10 km track, their phones sending a fix every 10 s with 8 m of noise and no speed, through the
// course engine as the server runs it. For a point ahead (the finish, and one mid-race) the
// prediction made 30 and 10 minutes before the runner truly got there is compared with when they
// did. Runners do what runners do: their pace wanders, most fade in the second half (some by 15%),
// some stop for a minute at a drink station, and on the hilly half marathon they slow uphill.
import { buildCourse, type Course } from '../server/core/course.ts';
import { RaceTracker } from '../server/core/race-tracker.ts';
import { estimateArrival } from '../shared/eta.ts';
import { outAndBack } from './course-shapes.ts';
import { seededRandom, type Random } from '../shared/random.ts';

interface EtaScenario {
  name: string;
  course: () => Course;
  paceSecPerKm: [number, number];
  /** Points to predict arrival at, metres along the race. */
  targetsM: number[];
  /** The course's altitude along the race, for a hilly course. */
  elevationAt?: (distanceAlongRaceM: number) => number;
}

/** The demo's half marathon: out along an axis rising to the north (about 0.6%), and back down. */
const HALF_M = 21097.5;
function axisElevation(d: number): number {
  const outM = d <= HALF_M / 2 ? d : HALF_M - d;
  return 1180 + 0.006 * outM + 6 * Math.sin(outM / 900);
}

const scenarios: EtaScenario[] = [
  {
    name: 'marathon',
    course: () => buildCourse({ kind: 'street', coordinates: outAndBack(42195, 15) }, 42195),
    paceSecPerKm: [180, 420],
    targetsM: [30000, 42195],
  },
  {
    name: 'hilly-half',
    course: () => buildCourse({ kind: 'street', coordinates: outAndBack(HALF_M, 15) }, HALF_M),
    paceSecPerKm: [180, 420],
    targetsM: [10000, HALF_M],
    elevationAt: axisElevation,
  },
  {
    name: 'track-10k',
    course: () => buildCourse({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }, 10000),
    paceSecPerKm: [190, 420],
    targetsM: [7000, 10000],
  },
];

const LEADS_MIN = [30, 10];
const FIX_EVERY_SEC = 10;
const NOISE_M = 8;

/** Distance along the race each second. */
function simulateRun(course: Course, scenario: EtaScenario, random: Random): Float64Array {
  const base = 1000 / random.between(...scenario.paceSecPerKm);
  const wobble = random.between(0.02, 0.06);
  const periodSec = random.between(300, 1200);
  const phase = random.between(0, 2 * Math.PI);
  // By the end, this much slower (squared: the fade comes late).
  const fade = random.between(0, 0.15);
  // Drink stations every 5 km; a few runners stop at some for 20-90 s.
  const stops = new Map<number, number>();
  for (let km = 5000; km < course.raceDistanceM; km += 5000) if (random.next() < 0.25) stops.set(km, Math.round(random.between(20, 90)));
  const out: number[] = [0];
  let d = 0;
  let pause = 0;
  for (let t = 1; d < course.raceDistanceM; t++) {
    if (pause > 0) {
      pause--;
    } else {
      const share = d / course.raceDistanceM;
      // Uphill slows a runner, downhill helps less (about 4% and 2% per 1% of grade on roads).
      const grade = scenario.elevationAt ? (scenario.elevationAt(Math.min(d + 10, course.raceDistanceM)) - scenario.elevationAt(d)) / 10 : 0;
      const hill = 1 / (1 + (grade > 0 ? 4 : 2) * grade);
      const speed = base * (1 + wobble * Math.sin((2 * Math.PI * t) / periodSec + phase)) * (1 - fade * share * share) * hill;
      const next = Math.min(course.raceDistanceM, d + speed);
      for (const [atM, sec] of stops) {
        if (d < atM && next >= atM) {
          pause = sec;
          stops.delete(atM);
        }
      }
      d = next;
    }
    out.push(d);
  }
  return Float64Array.from(out);
}

function timeAt(truth: Float64Array, m: number): number {
  for (let t = 1; t < truth.length; t++) if (truth[t]! >= m) return t - 1 + (m - truth[t - 1]!) / Math.max(truth[t]! - truth[t - 1]!, 1e-9);
  return truth.length - 1;
}

export interface EtaFigures {
  scenario: string;
  leadMin: number;
  predictions: number;
  medianErrorSec: number;
  p90ErrorSec: number;
  /** Share of true arrivals inside the 80% interval. */
  withinInterval: number;
}

export function runEta(seed: number, runnersPerScenario = 60): EtaFigures[] {
  const random = seededRandom(seed);
  const figures: EtaFigures[] = [];
  for (const scenario of scenarios) {
    const course = scenario.course();
    // A hilly course is predicted twice: with its climbs, and as if it had none (what they add).
    const variants = scenario.elevationAt ? [scenario.elevationAt, undefined] : [undefined];
    const errors = new Map<string, number[]>();
    const inside = new Map<string, number>();
    const key = (lead: number, v: number) => `${lead}/${v}`;
    for (let r = 0; r < runnersPerScenario; r++) {
      const truth = simulateRun(course, scenario, random);
      const tracker = new RaceTracker('eta', course, 0, [{ participantId: 'r', bib: '1', name: 'Runner' }]);
      const arrivals = scenario.targetsM.map((m) => timeAt(truth, m));
      const done = scenario.targetsM.map(() => new Set<number>());
      for (let t = FIX_EVERY_SEC; t < truth.length; t += FIX_EVERY_SEC) {
        const [lon, lat] = course.path.ruler.offset(course.path.pointAtRaceDistance(truth[t]!), random.gaussian(NOISE_M), random.gaussian(NOISE_M));
        tracker.applyFix('r', { lon, lat, recordedAtMs: t * 1000, accuracyM: NOISE_M * 1.5 });
        const state = tracker.runnerSnapshot('r')!;
        for (const [k, targetM] of scenario.targetsM.entries()) {
          for (const lead of LEADS_MIN) {
            // The first fix within `lead` minutes of the true arrival.
            if (done[k]!.has(lead) || arrivals[k]! - t > lead * 60 || arrivals[k]! <= t) continue;
            done[k]!.add(lead);
            for (const [v, elevationAt] of variants.entries()) {
              const eta = estimateArrival(
                {
                  startsAtMs: 0,
                  timingPoints: tracker.timingPoints,
                  crossings: state.crossings,
                  distanceNowM: state.distanceAlongRaceM,
                  nowMs: t * 1000,
                  ...(elevationAt ? { elevationAt } : {}),
                },
                targetM,
              );
              if (!eta) continue;
              const arrivalMs = arrivals[k]! * 1000;
              const at = key(lead, v);
              errors.set(at, [...(errors.get(at) ?? []), Math.abs(eta.atMs - arrivalMs) / 1000]);
              if (arrivalMs >= eta.earliestMs && arrivalMs <= eta.latestMs) inside.set(at, (inside.get(at) ?? 0) + 1);
            }
          }
        }
      }
    }
    for (const [v, elevationAt] of variants.entries()) {
      for (const lead of LEADS_MIN) {
        const e = (errors.get(key(lead, v)) ?? []).sort((a, b) => a - b);
        const q = (p: number) => e[Math.min(e.length - 1, Math.floor(p * e.length))] ?? NaN;
        const name = scenario.elevationAt ? `${scenario.name} (${elevationAt ? 'climbs' : 'no climbs'})` : scenario.name;
        figures.push({ scenario: name, leadMin: lead, predictions: e.length, medianErrorSec: q(0.5), p90ErrorSec: q(0.9), withinInterval: (inside.get(key(lead, v)) ?? 0) / Math.max(e.length, 1) });
      }
    }
  }
  return figures;
}

export function formatEta(figures: EtaFigures[]): string {
  const lines = [
    'scenario                 before arrival  predictions  median error  90th pct error  inside 80% interval',
    '-----------------------  --------------  -----------  ------------  --------------  -------------------',
  ];
  for (const f of figures) {
    lines.push(
      `${f.scenario.padEnd(23)}  ${`${f.leadMin} min`.padStart(14)}  ${String(f.predictions).padStart(11)}  ${`${f.medianErrorSec.toFixed(0)} s`.padStart(12)}  ${`${f.p90ErrorSec.toFixed(0)} s`.padStart(14)}  ${`${(100 * f.withinInterval).toFixed(0)}%`.padStart(19)}`,
    );
  }
  return lines.join('\n');
}
