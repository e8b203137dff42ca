// A race's course: the measured line of one lap plus how the race uses it. A street course is a
// single lap as long as the race; a loop and a track are run round as many times as the race
// distance needs, possibly starting or ending part-way round.
//
// The line a course holds always starts where the race starts, so a distance along the race is a
// distance along the line (laps unrolled) everywhere: in the engine and in the viewer. For a race
// that starts part-way round a lap, the lap line is then `lapLineAtM` metres into the line.
import { CoursePath, type LonLat } from '../../shared/course-path.ts';
import type { CourseKind } from '../../shared/protocol.ts';
import { CourseIndex } from './course-index.ts';
import { rotateLap, trackLapCoordinates, trackLapLengthM, type TrackDefinition } from './track.ts';

export interface Course {
  kind: CourseKind;
  /** One lap, starting at the race's start. */
  path: CoursePath;
  raceDistanceM: number;
  lapLengthM: number;
  /** Whether the race goes round the line more than once (loop and track). */
  isLapped: boolean;
  /** How far past the lap line the race starts (0 on a street course). */
  startOffsetM: number;
  index: CourseIndex;
  /** How sharply the line turns along each segment, radians per metre (positive turning left). */
  curvaturePerM: Float64Array;
  /** Each segment as a flat-earth vector in ground metres (the snapping's hot loop reads these). */
  segments: SegmentVectors;
  /**
   * Where a runner who goes on past the finish of a street course ends up: the line's last
   * direction carried on for `runOutM` metres. On a lapped course the lap itself goes on.
   */
  runOut: { from: LonLat; to: LonLat; lengthM: number } | null;
  /**
   * The altitudes along the drawn line when its file had them, as [share of the line's length
   * from where it was drawn to start (a loop's lap line), metres]; absent otherwise.
   */
  profile?: Array<[share: number, elevationM: number]>;
  /**
   * What the course was built from: with the race distance, `buildCourse` makes the same course
   * again (how a course replaced at run time reaches every process, through the race's log).
   */
  definition: CourseDefinition;
}

export interface SegmentVectors {
  /** Metres per degree of longitude and of latitude at the course's latitude (cheap-ruler). */
  kx: number;
  ky: number;
  /** Each segment's first vertex (flat arrays: the hot loop reads them without a pointer per vertex). */
  lon: Float64Array;
  lat: Float64Array;
  east: Float64Array;
  north: Float64Array;
  lengthSq: Float64Array;
}

export type CourseDefinition =
  | { kind: 'street'; coordinates: LonLat[] }
  | { kind: 'loop'; coordinates: LonLat[]; lapLengthM?: number; startOffsetM?: number; courseKind?: 'loop' | 'track' }
  | ({ kind: 'track'; startOffsetM?: number } & TrackDefinition);

/** A loop whose ends are this close is closed by joining them; farther apart is an error. */
const LOOP_CLOSING_GAP_M = 50;
/** Shortest lap a course may have: shorter is a unit mistake, and would make every fix search many laps. */
export const MIN_LAP_LENGTH_M = 100;
/**
 * How far the drawn line's length may be from the official one. A hand-drawn line cuts corners by
 * a few percent; a line off by more is the wrong file or the wrong unit.
 */
const MAX_SCALE_DEVIATION = 0.2;
/** How far past the end of a street course the run-out reaches (runners walk on down the chute). */
export const RUN_OUT_M = 150;

export function buildCourse(definition: CourseDefinition, raceDistanceM: number): Course {
  if (!(raceDistanceM > 0) || !Number.isFinite(raceDistanceM)) {
    throw new Error(`the race distance must be a positive number of metres, got ${raceDistanceM}`);
  }
  if (definition.kind !== 'track') checkLine(definition.coordinates);
  switch (definition.kind) {
    case 'street': {
      // The drawn line is scaled to the official distance: that is what the runners run.
      const path = checkScale(new CoursePath(definition.coordinates, { lapLengthM: raceDistanceM }), 'race distance');
      return {
        kind: 'street',
        path,
        raceDistanceM,
        lapLengthM: raceDistanceM,
        isLapped: false,
        startOffsetM: 0,
        index: new CourseIndex(path),
        curvaturePerM: curvatureOf(path, false),
        segments: segmentVectorsOf(path),
        runOut: runOutOf(path),
        definition,
      };
    }
    case 'loop': {
      const coordinates = closeLoop(definition.coordinates);
      const lap = checkScale(new CoursePath(coordinates, { lapLengthM: definition.lapLengthM }), 'lap length');
      if (lap.lapLengthM < MIN_LAP_LENGTH_M) {
        throw new Error(`a lap must be at least ${MIN_LAP_LENGTH_M} m long (this one is ${lap.lapLengthM.toFixed(1)} m)`);
      }
      return lappedCourse(definition.courseKind ?? 'loop', coordinates, lap.lapLengthM, raceDistanceM, definition.startOffsetM ?? 0, definition);
    }
    case 'track': {
      const lapLengthM = trackLapLengthM(definition.lane);
      if (definition.finishLineOffsetM !== undefined && !(Math.abs(definition.finishLineOffsetM) <= lapLengthM)) {
        throw new Error(`the finish line offset is at most one lap (${lapLengthM.toFixed(2)} m), got ${definition.finishLineOffsetM}`);
      }
      // By default a track race finishes on the finish line, so it starts where the distance
      // puts it: a 10,000 m on the line, a 5,000 m 200 m into the lap, a 1,500 m 100 m in.
      // (To the centimetre: a distance of whole laps must not start a rounding error short of a lap.)
      const byDistanceM = Math.round(((lapLengthM - (raceDistanceM % lapLengthM)) % lapLengthM) * 100) / 100;
      const startOffsetM = definition.startOffsetM ?? (byDistanceM >= lapLengthM - 0.01 ? 0 : byDistanceM);
      return lappedCourse('track', trackLapCoordinates(definition), lapLengthM, raceDistanceM, startOffsetM, definition);
    }
  }
}

/** A loop or track: the lap turned to start where the race starts. */
function lappedCourse(
  kind: 'loop' | 'track',
  lapFromLine: LonLat[],
  lapLengthM: number,
  raceDistanceM: number,
  startOffsetM: number,
  definition: CourseDefinition,
): Course {
  if (!(startOffsetM >= 0 && startOffsetM < lapLengthM)) {
    throw new Error(`the start offset is a distance from the lap line, 0 to less than one lap (${lapLengthM.toFixed(1)} m), got ${startOffsetM}`);
  }
  // The offset is in official metres; the line is turned by the same share of its drawn length.
  const drawn = new CoursePath(lapFromLine);
  const coordinates = startOffsetM === 0 ? lapFromLine : rotateLap(lapFromLine, (startOffsetM / lapLengthM) * drawn.measuredLengthM);
  const path = new CoursePath(coordinates, { lapLengthM });
  return {
    kind,
    path,
    raceDistanceM,
    lapLengthM,
    isLapped: true,
    startOffsetM,
    index: new CourseIndex(path),
    curvaturePerM: curvatureOf(path, true),
    segments: segmentVectorsOf(path),
    runOut: null,
    definition,
  };
}

/**
 * The turn of the line about each segment: the change of direction from the segment before to
 * the segment after, over the length between their middles. Smoothed so that a hand-drawn line's
 * jitter does not read as bends.
 */
function curvatureOf(path: CoursePath, closed: boolean): Float64Array {
  const c = path.coordinates;
  const segments = c.length - 1;
  const bearing = new Float64Array(segments);
  const lengthM = new Float64Array(segments);
  for (let i = 0; i < segments; i++) {
    bearing[i] = (path.ruler.bearing(c[i]!, c[i + 1]!) * Math.PI) / 180;
    lengthM[i] = path.ruler.distance(c[i]!, c[i + 1]!);
  }
  const out = new Float64Array(segments);
  for (let i = 0; i < segments; i++) {
    const before = i > 0 ? i - 1 : closed ? segments - 1 : i;
    const after = i < segments - 1 ? i + 1 : closed ? 0 : i;
    let turn = bearing[after]! - bearing[before]!;
    turn = Math.atan2(Math.sin(turn), Math.cos(turn));
    const spanM = lengthM[before]! / 2 + lengthM[i]! + lengthM[after]! / 2;
    // Bearings grow clockwise: a left turn is a negative change.
    out[i] = spanM > 0 && before !== after ? -turn / spanM : 0;
  }
  return out;
}

function segmentVectorsOf(path: CoursePath): SegmentVectors {
  const c = path.coordinates;
  const { kx, ky } = path.ruler;
  const n = c.length - 1;
  const east = new Float64Array(n);
  const north = new Float64Array(n);
  const lengthSq = new Float64Array(n);
  const lon = new Float64Array(n);
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lon[i] = c[i]![0];
    lat[i] = c[i]![1];
    east[i] = (c[i + 1]![0] - c[i]![0]) * kx;
    north[i] = (c[i + 1]![1] - c[i]![1]) * ky;
    lengthSq[i] = east[i]! * east[i]! + north[i]! * north[i]!;
  }
  return { kx, ky, lon, lat, east, north, lengthSq };
}

function runOutOf(path: CoursePath): Course['runOut'] {
  const coordinates = path.coordinates;
  const end = coordinates[coordinates.length - 1]!;
  // The direction of the last few metres of the line (one short segment can point anywhere).
  let k = coordinates.length - 2;
  while (k > 0 && path.ruler.distance(coordinates[k]!, end) < 20) k--;
  const bearing = path.ruler.bearing(coordinates[k]!, end);
  const to = path.ruler.destination(end, RUN_OUT_M, bearing) as LonLat;
  return { from: end, to, lengthM: RUN_OUT_M };
}

function checkLine(coordinates: LonLat[]): void {
  for (let i = 1; i < coordinates.length; i++) {
    if (Math.abs(coordinates[i]![0] - coordinates[i - 1]![0]) > 180) {
      throw new Error(`the line crosses the antimeridian between coordinates ${i - 1} and ${i}, which is not supported`);
    }
  }
}

function checkScale(path: CoursePath, what: string): CoursePath {
  if (Math.abs(path.scale - 1) > MAX_SCALE_DEVIATION) {
    throw new Error(
      `the drawn line is ${path.measuredLengthM.toFixed(0)} m long but the official ${what} is ${path.lapLengthM.toFixed(0)} m: more than ${MAX_SCALE_DEVIATION * 100}% apart (wrong file, or a distance in the wrong unit?)`,
    );
  }
  return path;
}

function closeLoop(coordinates: LonLat[]): LonLat[] {
  const probe = new CoursePath(coordinates); // checks the coordinates first
  const first = coordinates[0]!;
  const last = coordinates[coordinates.length - 1]!;
  const gapM = probe.ruler.distance(first, last);
  if (gapM < 1) return coordinates;
  if (gapM > LOOP_CLOSING_GAP_M) {
    throw new Error(
      `a loop course must end where it starts; its ends are ${gapM.toFixed(0)} m apart (at most ${LOOP_CLOSING_GAP_M} m are joined automatically)`,
    );
  }
  return [...coordinates, first];
}

/**
 * A course's altitudes as distances along its lap as drawn for viewers (`CourseGeometry`), which
 * starts where the race starts, a lap line `startOffsetM` before it on a loop or track.
 */
export function profileAlongLap(course: Course): Array<[number, number]> {
  const startOffsetM = course.isLapped ? course.startOffsetM : 0;
  const points = (course.profile ?? []).map(([share, elevationM]): [number, number] => {
    const drawnM = share * course.lapLengthM;
    // (Without an offset the lap ends where it starts: its last point stays at the lap's end.)
    const d = startOffsetM === 0 ? drawnM : (((drawnM - startOffsetM) % course.lapLengthM) + course.lapLengthM) % course.lapLengthM;
    return [Math.round(d * 10) / 10, elevationM];
  });
  return points.sort((a, b) => a[0] - b[0]);
}
