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

export function buildCourse(definition: CourseDefinition, raceDistanceM: number): Course {
  if (!(raceDistanceM > 0) || !Number.isFinite(raceDistanceM)) {
    throw new Error(`the race distance must be a positive number of metres, got ${raceDistanceM}`);
  }
  switch (definition.kind) {
    case 'street': {
      // The drawn line is scaled to the official distance: that is what the runners run.
      const path = new CoursePath(definition.coordinates, { lapLengthM: raceDistanceM });
      return { kind: 'street', path, raceDistanceM, lapLengthM: raceDistanceM, isLapped: false, index: new CourseIndex(path) };
    }
    case 'loop': {
      const coordinates = closeLoop(definition.coordinates);
      const path = new CoursePath(coordinates, { lapLengthM: definition.lapLengthM });
      return { kind: 'loop', path, raceDistanceM, lapLengthM: path.lapLengthM, isLapped: true, index: new CourseIndex(path) };
    }
    case 'track': {
      const lapLengthM = trackLapLengthM(definition.lane);
      const path = new CoursePath(trackLapCoordinates(definition), { lapLengthM });
      return { kind: 'track', path, raceDistanceM, lapLengthM, isLapped: true, index: new CourseIndex(path) };
    }
  }
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
