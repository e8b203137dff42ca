// A standard 400 m athletics track generated from its centre, the bearing of its home straight
// and a lane, following World Athletics geometry: two straights of 84.39 m, bends of 36.50 m
// radius to the inside kerb, lane width 1.22 m, the running line measured 0.30 m outside the kerb
// in lane 1 and 0.20 m outside the lane's inner line in the others. Lane 1 is 400.00 m a lap.
import CheapRuler from 'cheap-ruler';
import type { LonLat } from '../../shared/course-path.ts';

export const TRACK_STRAIGHT_M = 84.39;
export const TRACK_KERB_RADIUS_M = 36.5;
export const TRACK_LANE_WIDTH_M = 1.22;
export const TRACK_LANES = 9;

export interface TrackDefinition {
  centre: { lat: number; lon: number };
  /** Direction runners run along the home straight, degrees clockwise from north. */
  homeStraightBearingDeg: number;
  /** 1 to 9. */
  lane: number;
  /**
   * Where the lap line (the finish line) is, metres along the running line from the end of the
   * home straight, counter-clockwise; 0 (the default) is the common finish line.
   */
  finishLineOffsetM?: number;
}

/** Radius of the running line of a lane, metres. */
export function laneRadiusM(lane: number): number {
  if (!Number.isInteger(lane) || lane < 1 || lane > TRACK_LANES) {
    throw new Error(`a track lane is a whole number from 1 to ${TRACK_LANES}, got ${lane}`);
  }
  return lane === 1 ? TRACK_KERB_RADIUS_M + 0.3 : TRACK_KERB_RADIUS_M + TRACK_LANE_WIDTH_M * (lane - 1) + 0.2;
}

/** Length of one lap in a lane, metres (400.00 in lane 1 to the centimetre). */
export function trackLapLengthM(lane: number): number {
  // Lane 1 is 400 m by definition (the straights' 84.39 m is itself rounded to the centimetre,
  // which would make it 400.0012 and put every lap line a fraction off its whole distance).
  return TRACK_LAP_M + 2 * Math.PI * (laneRadiusM(lane) - laneRadiusM(1));
}

/** The official length of a lap in lane 1. */
export const TRACK_LAP_M = 400;

/**
 * One lap of the running line, counter-clockwise (infield on the runner's left), starting and
 * ending on the finish line: the end of the home straight unless `finishLineOffsetM` moves it.
 */
export function trackLapCoordinates(track: TrackDefinition, stepsPerBend = 180): LonLat[] {
  const lap = trackLapFromHomeStraightEnd(track, stepsPerBend);
  const offsetM = track.finishLineOffsetM ?? 0;
  return offsetM === 0 ? lap : rotateLap(lap, offsetM);
}

/**
 * A closed lap's line started somewhere else on it: `offsetM` metres (measured along the line,
 * in its direction) past its first point. The line keeps its shape and length.
 */
export function rotateLap(lap: readonly LonLat[], offsetM: number): LonLat[] {
  const ruler = new CheapRuler(lap[0]![1], 'meters');
  const lengthM = ruler.lineDistance(lap as LonLat[]);
  const at = ((offsetM % lengthM) + lengthM) % lengthM;
  if (at < 1e-6 || lengthM - at < 1e-6) return [...lap];
  const start = ruler.along(lap as LonLat[], at) as LonLat;
  let walkedM = 0;
  let splitAfter = 0;
  for (let i = 1; i < lap.length; i++) {
    const segmentM = ruler.distance(lap[i - 1]!, lap[i]!);
    if (walkedM + segmentM > at) {
      splitAfter = i - 1;
      break;
    }
    walkedM += segmentM;
  }
  // lap[0] and lap[last] are the same point: walk from the split to the end, then from the
  // second point round to the split again.
  const rotated = [start, ...lap.slice(splitAfter + 1), ...lap.slice(1, splitAfter + 1), start];
  return rotated.filter((p, i) => i === 0 || p[0] !== rotated[i - 1]![0] || p[1] !== rotated[i - 1]![1]);
}

function trackLapFromHomeStraightEnd(track: TrackDefinition, stepsPerBend: number): LonLat[] {
  const radius = laneRadiusM(track.lane);
  const half = TRACK_STRAIGHT_M / 2;
  // Local frame: x along the home straight, y towards the infield.
  const local: [number, number][] = [];
  for (let i = 0; i <= stepsPerBend; i++) {
    const angle = -Math.PI / 2 + (Math.PI * i) / stepsPerBend;
    local.push([half + radius * Math.cos(angle), radius * Math.sin(angle)]);
  }
  for (let i = 0; i <= stepsPerBend; i++) {
    const angle = Math.PI / 2 + (Math.PI * i) / stepsPerBend;
    local.push([-half + radius * Math.cos(angle), radius * Math.sin(angle)]);
  }
  local.push([half, -radius]);

  const bearingRad = (track.homeStraightBearingDeg * Math.PI) / 180;
  const xEast = Math.sin(bearingRad);
  const xNorth = Math.cos(bearingRad);
  // The infield is on the left of the direction of running.
  const yEast = -xNorth;
  const yNorth = xEast;
  const ruler = new CheapRuler(track.centre.lat, 'meters');
  const centre: LonLat = [track.centre.lon, track.centre.lat];
  return local.map(([x, y]) => ruler.offset(centre, x * xEast + y * yEast, x * xNorth + y * yNorth) as LonLat);
}
