// A runner moving along a course at a steady pace, reporting noisy GPS fixes: the ground truth
// for snapping tests and evaluations.
import type { Course } from '../server/core/course.ts';
import type { Fix } from '../server/core/race-tracker.ts';
import type { Random } from '../shared/random.ts';

export interface NoisyRunOptions {
  startMs: number;
  paceSecPerKm: number;
  intervalSec: number;
  /** Standard deviation of the GPS error per axis, metres. */
  noiseM: number;
  random: Random;
  /** Keep reporting this long after the finish (a phone left on); default a minute, at least three fixes. */
  afterFinishSec?: number;
}

export interface NoisyFix {
  fix: Fix;
  trueDistanceAlongRaceM: number;
}

export function noisyRun(course: Course, options: NoisyRunOptions): NoisyFix[] {
  const speedMps = 1000 / options.paceSecPerKm;
  const durationSec = course.raceDistanceM / speedMps + (options.afterFinishSec ?? Math.max(60, 3 * options.intervalSec));
  const out: NoisyFix[] = [];
  const finishSec = course.raceDistanceM / speedMps;
  for (let t = options.intervalSec; t <= durationSec; t += options.intervalSec) {
    const trueDistanceAlongRaceM = Math.min(course.raceDistanceM, t * speedMps);
    // Past the line the runner walks on down the finish chute, as runners do.
    const beyondM = Math.min(Math.max(0, t - finishSec), 30) * 1.2;
    const point =
      beyondM === 0 || course.isLapped
        ? course.path.pointAtRaceDistance(trueDistanceAlongRaceM + beyondM)
        : course.path.ruler.destination(course.path.pointAtRaceDistance(course.raceDistanceM), beyondM, course.path.bearingAtRaceDistance(course.raceDistanceM));
    const [lon, lat] = course.path.ruler.offset(point, options.random.gaussian(options.noiseM), options.random.gaussian(options.noiseM));
    out.push({
      fix: { lon, lat, recordedAtMs: options.startMs + t * 1000, accuracyM: Math.max(3, Math.round(options.noiseM * 1.5)) },
      trueDistanceAlongRaceM,
    });
  }
  return out;
}
