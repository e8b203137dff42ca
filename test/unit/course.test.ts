// Course geometry against Turf, the reference.
import * as turf from '@turf/turf';
import { describe, expect, it } from 'vitest';
import { CoursePath, lapNumber, type LonLat } from '../../shared/course-path.ts';
import { buildCourse } from '../../server/core/course.ts';
import { laneRadiusM, trackLapCoordinates, trackLapLengthM } from '../../server/core/track.ts';
import { loadEventFile } from '../../server/event/event-file.ts';
import { parkLoop } from '../../simulations/course-shapes.ts';
import { DEMO_EVENT_FILE } from '../../server/config.ts';
import { seededRandom } from '../../shared/random.ts';

const azadi = { centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 };

describe('400 m track', () => {
  it('is 400.00 m a lap in lane 1 and longer by 2π × 1.22 m a lane outward', () => {
    expect(trackLapLengthM(1)).toBeCloseTo(400, 2);
    expect(laneRadiusM(1)).toBeCloseTo(36.8, 10);
    expect(trackLapLengthM(2) - trackLapLengthM(1)).toBeCloseTo(2 * Math.PI * (1.22 - 0.1), 6);
    expect(() => laneRadiusM(0)).toThrow(/lane/);
    expect(() => laneRadiusM(10)).toThrow(/lane/);
  });

  it('generates a closed running line whose measured length is the lap length', () => {
    const coordinates = trackLapCoordinates(azadi);
    const path = new CoursePath(coordinates);
    expect(path.isClosed).toBe(true);
    expect(path.measuredLengthM).toBeCloseTo(400, 1); // cheap-ruler, 1° chords
    const turfLengthM = turf.length(turf.lineString(coordinates), { units: 'meters' });
    expect(Math.abs(turfLengthM - 400) / 400).toBeLessThan(0.005); // Turf's sphere differs slightly
  });

  it('runs counter-clockwise with the infield on the left', () => {
    const coordinates = trackLapCoordinates(azadi);
    // Shoelace in local metres: positive area means counter-clockwise.
    const path = new CoursePath(coordinates);
    let twiceArea = 0;
    for (let i = 1; i < coordinates.length; i++) {
      const [x1, y1] = coordinates[i - 1]!;
      const [x2, y2] = coordinates[i]!;
      twiceArea += x1 * path.ruler.kx * (y2 * path.ruler.ky) - x2 * path.ruler.kx * (y1 * path.ruler.ky);
    }
    expect(twiceArea).toBeGreaterThan(0);
    // Infield area of lane 1's line: rectangle plus circle.
    expect(twiceArea / 2).toBeCloseTo(84.39 * 2 * 36.8 + Math.PI * 36.8 ** 2, -1);
  });
});

describe('course path', () => {
  it('scales the measured line to the official distance and interpolates along it', () => {
    const line: LonLat[] = [
      [51.3, 35.7],
      [51.31, 35.7],
      [51.31, 35.71],
    ];
    const path = new CoursePath(line, { lapLengthM: 2000 });
    expect(path.vertexDistancesM[2]).toBeCloseTo(2000, 9);
    const ratio = path.vertexDistancesM[1]! / 2000;
    const measuredRatio = path.ruler.distance(line[0]!, line[1]!) / path.measuredLengthM;
    expect(ratio).toBeCloseTo(measuredRatio, 12);
    expect(path.pointAtLapDistance(0)).toEqual(line[0]);
    expect(path.pointAtLapDistance(2000)).toEqual(line[2]);
    const mid = path.pointAtLapDistance(path.vertexDistancesM[1]! / 2);
    expect(mid[0]).toBeCloseTo(51.305, 9);
    expect(mid[1]).toBeCloseTo(35.7, 9);
  });

  it('agrees with Turf within 0.5% on the length of the demo marathon', async () => {
    const event = await loadEventFile(DEMO_EVENT_FILE);
    const marathon = event.races.find((r) => r.raceId === 'men-42k')!;
    const coordinates = marathon.course.path.coordinates.map((c) => [...c]);
    const path = new CoursePath(marathon.course.path.coordinates);
    const turfM = turf.length(turf.lineString(coordinates), { units: 'meters' });
    expect(Math.abs(path.measuredLengthM - turfM) / turfM).toBeLessThan(0.005);
    expect(Math.abs(path.measuredLengthM - 42195)).toBeLessThan(50);
  });

  it('slices a stretch of the line (a road section) with its vertices', async () => {
    const event = await loadEventFile(DEMO_EVENT_FILE);
    const path = event.races.find((r) => r.raceId === 'men-10k')!.course.path;
    const slice = path.lapSlice(2000, 3000);
    expect(slice[0]).toEqual(path.pointAtLapDistance(2000));
    expect(slice.at(-1)).toEqual(path.pointAtLapDistance(3000));
    expect(path.ruler.lineDistance(slice) * path.scale).toBeCloseTo(1000, 0);
    // Every vertex of the line within the stretch is in the slice, between its two ends.
    const inside = path.vertexDistancesM.filter((d) => d > 2000 && d < 3000).length;
    expect(slice.length).toBe(inside + 2);
  });

  it('finds the segment holding any distance, on lines with uneven and repeated vertices', async () => {
    const event = await loadEventFile(DEMO_EVENT_FILE);
    const random = seededRandom(17);
    const uneven: LonLat[] = [[51.3, 35.7], [51.3, 35.7], [51.3001, 35.7], [51.31, 35.7], [51.31, 35.7001], [51.3101, 35.7001], [51.3101, 35.7001]];
    for (const path of [...event.races.map((r) => r.course.path), new CoursePath(uneven)]) {
      const d = path.vertexDistancesM;
      // The last segment starting at or before the distance, as a plain scan finds it.
      const byScan = (x: number) => {
        let i = 0;
        while (i < d.length - 2 && d[i + 1]! <= x) i++;
        return i;
      };
      for (let k = 0; k < 2000; k++) {
        const x = (random.next() * 1.2 - 0.1) * path.lapLengthM;
        expect(path.segmentIndexAt(x), `${x} m`).toBe(byScan(x));
      }
      for (const x of d) expect(path.segmentIndexAt(x)).toBe(byScan(x));
    }
  });

  it('refuses lines that are not courses', () => {
    expect(() => new CoursePath([[51, 35]])).toThrow(/two coordinates/);
    expect(() => new CoursePath([[51, 35], [51, 35]])).toThrow(/length/);
    expect(() => new CoursePath([[51, 95], [51, 35]])).toThrow(/longitude, latitude/);
  });

  it('counts laps with the finish line in the last lap', () => {
    expect(lapNumber(0, 400, 10000)).toBe(1);
    expect(lapNumber(399.9, 400, 10000)).toBe(1);
    expect(lapNumber(400, 400, 10000)).toBe(2);
    expect(lapNumber(10000, 400, 10000)).toBe(25);
    expect(lapNumber(32000, 700, 32000)).toBe(46);
    expect(lapNumber(5000, 10000, 10000)).toBe(1);
  });
});

describe('building courses', () => {
  it('builds a loop run round many times, ending part-way round', () => {
    const course = buildCourse({ kind: 'loop', coordinates: parkLoop(), lapLengthM: 700 }, 32000);
    expect(course.isLapped).toBe(true);
    expect(course.lapLengthM).toBe(700);
    expect(course.raceDistanceM / course.lapLengthM).toBeCloseTo(45.714, 3);
    // The race ends 500 m round the 46th lap.
    const end = course.path.pointAtRaceDistance(32000);
    const sameSpot = course.path.pointAtLapDistance(32000 - 45 * 700);
    expect(end).toEqual(sameSpot);
  });

  it('refuses lines that cannot be the course they claim to be', () => {
    const loop = parkLoop();
    expect(() => buildCourse({ kind: 'loop', coordinates: loop, lapLengthM: 400 }, 10000)).toThrow(
      /drawn line is 69\d m long but the official lap length is 400 m/,
    );
    expect(() => buildCourse({ kind: 'street', coordinates: loop.slice(0, 20) }, 10000)).toThrow(/more than 20% apart/);
    expect(() => buildCourse({ kind: 'loop', coordinates: [[179.9995, 0], [-179.9995, 0], [-179.9995, 0.0005], [179.9995, 0]] }, 1000)).toThrow(
      /antimeridian/,
    );
    const tiny = Array.from({ length: 20 }, (_, i) => [51.4 + 0.0001 * Math.cos((i / 19) * 2 * Math.PI), 35.7 + 0.0001 * Math.sin((i / 19) * 2 * Math.PI)] as LonLat);
    expect(() => buildCourse({ kind: 'loop', coordinates: tiny }, 1000)).toThrow(/at least 100 m/);
  });

  it('closes a loop whose ends nearly meet and refuses one whose ends are far apart', () => {
    // A circle of 100 m radius drawn without its last 6 points (about 38 m short).
    const ruler = new CoursePath(trackLapCoordinates(azadi)).ruler;
    const circle: LonLat[] = Array.from({ length: 100 }, (_, i) => ruler.destination([51.4, 35.7], 100, (360 * i) / 100) as LonLat);
    const open = circle.slice(0, -6);
    const closed = buildCourse({ kind: 'loop', coordinates: open }, 5000);
    expect(closed.path.isClosed).toBe(true);
    expect(closed.path.coordinates).toHaveLength(open.length + 1);
    const half = circle.slice(0, 50);
    expect(() => buildCourse({ kind: 'loop', coordinates: half }, 5000)).toThrow(/end where it starts/);
  });
});
