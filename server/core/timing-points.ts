// Timing points: the lines along a race where each runner's crossing time is recorded, like the
// mats of chip timing. Every lap line of a loop or track, every 5 km of a street course, the
// points an event file names, and the finish. Results, splits and ETA are built on the times.
import type { TimingPoint } from '../../shared/protocol.ts';
import type { Course } from './course.ts';

/** A point named in the event file (a water station, a landmark, a half-way mat). */
export interface NamedPoint {
  name: string;
  distanceAlongRaceM: number;
}

/** Splits of a street course without named points every this many metres. */
export const STREET_SPLIT_EVERY_M = 5000;
/** Two points closer than this are one (a named point on a lap line keeps its name). */
const SAME_POINT_M = 1;

/** The race's timing points in order along the race, the finish last. */
export function timingPointsFor(course: Course, named: readonly NamedPoint[] = []): TimingPoint[] {
  const raceM = course.raceDistanceM;
  const points: TimingPoint[] = [];
  if (course.isLapped) {
    // The first lap line is where the start's partial lap ends; then one every lap.
    const firstM = (course.lapLengthM - course.startOffsetM) % course.lapLengthM || course.lapLengthM;
    for (let m = firstM, lap = 1; m < raceM - SAME_POINT_M; m += course.lapLengthM, lap++) {
      points.push({ name: `Lap ${lap}`, distanceAlongRaceM: round(m), kind: 'lap' });
    }
  } else {
    for (let m = STREET_SPLIT_EVERY_M; m < raceM - SAME_POINT_M; m += STREET_SPLIT_EVERY_M) {
      points.push({ name: `${m / 1000} km`, distanceAlongRaceM: m, kind: 'split' });
    }
  }
  for (const p of named) {
    if (!(p.distanceAlongRaceM > 0 && p.distanceAlongRaceM < raceM - SAME_POINT_M)) continue;
    const same = points.find((q) => Math.abs(q.distanceAlongRaceM - p.distanceAlongRaceM) < SAME_POINT_M);
    if (same) {
      same.name = p.name;
      same.kind = 'named';
    } else points.push({ name: p.name, distanceAlongRaceM: round(p.distanceAlongRaceM), kind: 'named' });
  }
  points.sort((a, b) => a.distanceAlongRaceM - b.distanceAlongRaceM);
  points.push({ name: 'Finish', distanceAlongRaceM: raceM, kind: 'finish' });
  return points;
}

const round = (m: number) => Math.round(m * 100) / 100;

// A crossing is kept as one number so that a runner's state stays small (a 46-lap race holds 47
// of them): the time in deciseconds since the Unix epoch, times 2^14, plus the uncertainty (one
// standard deviation) in deciseconds, at most 16383 (27 minutes). -1 is a crossing an organiser
// set (a lap count corrected by hand) whose time is not known.
const SIGMA_SLOTS = 2 ** 14;
export const UNTIMED_CROSSING = -1;

export function packCrossing(atMs: number, sigmaMs: number): number {
  const sigmaDs = Math.min(SIGMA_SLOTS - 1, Math.max(0, Math.round(sigmaMs / 100)));
  return Math.round(atMs / 100) * SIGMA_SLOTS + sigmaDs;
}

export function unpackCrossing(packed: number): { atMs: number; sigmaMs: number } | null {
  if (!(packed >= 0) || !Number.isSafeInteger(packed)) return null;
  return { atMs: Math.floor(packed / SIGMA_SLOTS) * 100, sigmaMs: (packed % SIGMA_SLOTS) * 100 };
}

/**
 * A runner's crossings with one more. A new array of exactly the right length: a pushed-to array
 * keeps room for half as many again, and a 46-lap race's runners hold 47 crossings each for hours.
 * (A crossing is recorded once a lap at most, so the copy costs nothing that matters.)
 */
export function withCrossing(crossings: readonly number[], packed: number): number[] {
  const out = new Array<number>(crossings.length + 1);
  for (let k = 0; k < crossings.length; k++) out[k] = crossings[k]!;
  out[crossings.length] = packed;
  return out;
}
