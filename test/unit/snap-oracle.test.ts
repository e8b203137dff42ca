// The fast path against the reference: the engine's flat-earth search (cheap-ruler) agrees with
// Turf's nearestPointOnLine on the same line, within a stated tolerance.
import * as turf from '@turf/turf';
import { describe, expect, it } from 'vitest';
import type { LonLat } from '../../shared/course-path.ts';
import { buildCourse, type Course } from '../../server/core/course.ts';
import { searchCourse } from '../../server/core/snap.ts';
import { outAndBack } from '../../simulations/course-shapes.ts';
import { seededRandom } from '../../shared/random.ts';

/**
 * Tolerances: offsets within 0.3 m; distances along within 0.5 m + 0.2% (Turf's sphere against
 * cheap-ruler's ellipsoid, both scaled to the official distance), times how much the place along
 * the line is magnified where the fix is (inside a bend).
 */
const OFFSET_TOLERANCE_M = 0.3;
const ALONG_TOLERANCE = 0.002;
const ALONG_TOLERANCE_M = 0.5;

function compare(course: Course, seed: number, samples: number) {
  const line = turf.lineString(course.path.coordinates.map((c) => [...c]));
  const officialPerTurfM = course.lapLengthM / turf.length(line, { units: 'meters' });
  const random = seededRandom(seed);
  let worstAlongM = 0;
  let worstOffsetM = 0;
  for (let i = 0; i < samples; i++) {
    const alongM = random.between(0, course.lapLengthM);
    const point = course.path.ruler.offset(course.path.pointAtLapDistance(alongM), random.gaussian(15), random.gaussian(15)) as LonLat;
    const fast = searchCourse(course, { lon: point[0], lat: point[1] }, 0, course.lapLengthM, null, {
      fixSigmaM: 10,
      maxOffsetM: 1000,
      indexAboveSegments: Infinity,
    });
    const reference = turf.nearestPointOnLine(line, point, { units: 'meters' });
    if (!fast) throw new Error('no candidate');
    const refAlongM = reference.properties.totalDistance * officialPerTurfM;
    // On a closed line the lap's end and its start are one point.
    const rawMissM = Math.abs(fast.distanceAlongRaceM - refAlongM);
    const missM = course.isLapped ? Math.min(rawMissM, course.lapLengthM - rawMissM) : rawMissM;
    // Inside a bend the place along the line moves further than the fix does (the snap reports by
    // how much): the tolerance grows with it.
    worstAlongM = Math.max(worstAlongM, missM - fast.alongErrorScale * (ALONG_TOLERANCE * refAlongM + ALONG_TOLERANCE_M));
    worstOffsetM = Math.max(worstOffsetM, Math.abs(fast.offsetM - reference.properties.pointDistance));
  }
  return { worstAlongM, worstOffsetM };
}

describe('snapping agrees with Turf', () => {
  it('on a 5 km street line', () => {
    const outLeg = outAndBack(10000, 15).slice(0, 470);
    const course = buildCourse({ kind: 'street', coordinates: outLeg }, 5000);
    const { worstAlongM, worstOffsetM } = compare(course, 1, 300);
    expect(worstAlongM).toBeLessThanOrEqual(0);
    expect(worstOffsetM).toBeLessThan(OFFSET_TOLERANCE_M);
  });

  it('round a 400 m track', () => {
    const course = buildCourse({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }, 10000);
    const { worstAlongM, worstOffsetM } = compare(course, 2, 300);
    expect(worstAlongM).toBeLessThanOrEqual(0);
    expect(worstOffsetM).toBeLessThan(OFFSET_TOLERANCE_M);
  });

  it('finds the same segments through the spatial index as by scanning the window', () => {
    const course = buildCourse({ kind: 'street', coordinates: outAndBack(21097.5, 15) }, 21097.5);
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const alongM = random.between(0, course.raceDistanceM);
      const [lon, lat] = course.path.ruler.offset(course.path.pointAtRaceDistance(alongM), random.gaussian(10), random.gaussian(10));
      const expectation = { distanceAlongRaceM: alongM + random.gaussian(200), sigmaM: 300 };
      const options = { fixSigmaM: 10, maxOffsetM: 50 };
      const scanned = searchCourse(course, { lon, lat }, 0, course.raceDistanceM, expectation, { ...options, indexAboveSegments: Infinity });
      const indexed = searchCourse(course, { lon, lat }, 0, course.raceDistanceM, expectation, { ...options, indexAboveSegments: 0 });
      expect(indexed).toEqual(scanned);
    }
  });

  it('scores outwards from the expectation to the answer of scoring every segment, on laps and across the edges of a window', () => {
    const track = buildCourse({ kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 }, 5000);
    const street = buildCourse({ kind: 'street', coordinates: outAndBack(10000, 15) }, 10000);
    const random = seededRandom(8);
    for (const course of [track, street]) {
      for (let i = 0; i < 400; i++) {
        const alongM = random.between(0, course.raceDistanceM);
        const [lon, lat] = course.path.ruler.offset(course.path.pointAtRaceDistance(alongM), random.gaussian(12), random.gaussian(12));
        // Windows around the fix, before it or after it; the expectation inside them or not.
        const fromM = alongM + random.gaussian(300);
        const toM = fromM + random.between(20, 1500);
        const expectation = { distanceAlongRaceM: alongM + random.gaussian(400), sigmaM: random.between(5, 200) };
        const options = { fixSigmaM: 10, maxOffsetM: 60 };
        const outwards = searchCourse(course, { lon, lat }, fromM, toM, expectation, { ...options, indexAboveSegments: Infinity });
        const everySegment = searchCourse(course, { lon, lat }, fromM, toM, expectation, { ...options, indexAboveSegments: 0 });
        expect(outwards?.cost ?? null, `${course.kind} fix at ${alongM.toFixed(0)} m, window ${fromM.toFixed(0)}–${toM.toFixed(0)} m`).toBe(everySegment?.cost ?? null);
      }
    }
    // Not a number anywhere ends the search (it would walk round the laps for ever).
    expect(searchCourse(track, { lon: 51.27567, lat: 35.72447 }, 0, 5000, { distanceAlongRaceM: Number.NaN, sigmaM: 10 }, { fixSigmaM: 10, maxOffsetM: 60, indexAboveSegments: Infinity })).toBeNull();
  });
});
