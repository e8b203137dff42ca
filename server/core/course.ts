// A race's course: the measured line of one lap plus how the race uses it. A street course is a
// single lap as long as the race; a loop and a track are run round as many times as the race
// distance needs, possibly ending part-way round.
import { CoursePath, type LonLat } from '../../shared/course-path.ts';
import type { CourseKind } from '../../shared/protocol.ts';
import { CourseIndex } from './course-index.ts';
import { trackLapCoordinates, trackLapLengthM, type TrackDefinition } from './track.ts';

export interface Course {
  kind: CourseKind;
  path: CoursePath;
  raceDistanceM: number;
  lapLengthM: number;
  /** Whether the race goes round the line more than once (loop and track). */
  isLapped: boolean;
  index: CourseIndex;
}

export type CourseDefinition =
  | { kind: 'street'; coordinates: LonLat[] }
  | { kind: 'loop'; coordinates: LonLat[]; lapLengthM?: number }
  | ({ kind: 'track' } & TrackDefinition);

/** A loop whose ends are this close is closed by joining them; farther apart is an error. */
const LOOP_CLOSING_GAP_M = 50;
/** Shortest lap a course may have: shorter is a unit mistake, and would make every fix search many laps. */
export const MIN_LAP_LENGTH_M = 100;
/**
 * How far the drawn line's length may be from the official one. A hand-drawn line cuts corners by
 * a few percent; a line off by more is the wrong file or the wrong unit.
 */
const MAX_SCALE_DEVIATION = 0.2;

export function buildCourse(definition: CourseDefinition, raceDistanceM: number): Course {
  if (!(raceDistanceM > 0) || !Number.isFinite(raceDistanceM)) {
    throw new Error(`the race distance must be a positive number of metres, got ${raceDistanceM}`);
  }
  if (definition.kind !== 'track') checkLine(definition.coordinates);
  switch (definition.kind) {
    case 'street': {
      // The drawn line is scaled to the official distance: that is what the runners run.
      const path = checkScale(new CoursePath(definition.coordinates, { lapLengthM: raceDistanceM }), 'race distance');
      return { kind: 'street', path, raceDistanceM, lapLengthM: raceDistanceM, isLapped: false, index: new CourseIndex(path) };
    }
    case 'loop': {
      const coordinates = closeLoop(definition.coordinates);
      const path = checkScale(new CoursePath(coordinates, { lapLengthM: definition.lapLengthM }), 'lap length');
      if (path.lapLengthM < MIN_LAP_LENGTH_M) {
        throw new Error(`a lap must be at least ${MIN_LAP_LENGTH_M} m long (this one is ${path.lapLengthM.toFixed(1)} m)`);
      }
      return { kind: 'loop', path, raceDistanceM, lapLengthM: path.lapLengthM, isLapped: true, index: new CourseIndex(path) };
    }
    case 'track': {
      const lapLengthM = trackLapLengthM(definition.lane);
      const path = new CoursePath(trackLapCoordinates(definition), { lapLengthM });
      return { kind: 'track', path, raceDistanceM, lapLengthM, isLapped: true, index: new CourseIndex(path) };
    }
  }
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
  const probe = new CoursePath(coordinates);
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
