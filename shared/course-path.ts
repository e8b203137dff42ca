// A course line with a measure: every vertex knows its distance from the start of the lap.
// Shared by the server (snapping) and the viewer (turning distances back into points), so both
// measure the line the same way. All distances come from cheap-ruler at the course's latitude
// and are scaled to the official lap length: Turf and cheap-ruler disagree by tens of metres over
// a marathon, and the official distance is what runners and organisers go by.
import CheapRuler from 'cheap-ruler';

export type LonLat = [number, number];

export class CoursePath {
  readonly coordinates: readonly LonLat[];
  readonly ruler: CheapRuler;
  /** Official length of one lap in metres (the measured length when none is given). */
  readonly lapLengthM: number;
  /** Length of the line as cheap-ruler measures it. */
  readonly measuredLengthM: number;
  /** Official metres per measured metre. */
  readonly scale: number;
  /** Distance from the lap start to each vertex, official metres. */
  readonly vertexDistancesM: Float64Array;
  /** Whether the line ends where it starts (a loop or a track). */
  readonly isClosed: boolean;

  constructor(coordinates: readonly LonLat[], options: { lapLengthM?: number } = {}) {
    if (coordinates.length < 2) {
      throw new Error('a course needs at least two coordinates');
    }
    let latSum = 0;
    for (const [lon, lat] of coordinates) {
      if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
        throw new Error(`course coordinate [${lon}, ${lat}] is not a valid [longitude, latitude]`);
      }
      latSum += lat;
    }
    this.coordinates = coordinates;
    this.ruler = new CheapRuler(latSum / coordinates.length, 'meters');
    const measured = new Float64Array(coordinates.length);
    for (let i = 1; i < coordinates.length; i++) {
      measured[i] = measured[i - 1]! + this.ruler.distance(coordinates[i - 1]!, coordinates[i]!);
    }
    this.measuredLengthM = measured[coordinates.length - 1]!;
    if (!(this.measuredLengthM > 0)) throw new Error('a course must have a length');
    this.lapLengthM = options.lapLengthM ?? this.measuredLengthM;
    if (!(this.lapLengthM > 0)) throw new Error('the lap length must be positive');
    this.scale = this.lapLengthM / this.measuredLengthM;
    this.vertexDistancesM = measured.map((d) => d * this.scale);
    const first = coordinates[0]!;
    const last = coordinates[coordinates.length - 1]!;
    this.isClosed = this.ruler.distance(first, last) < 1;
  }

  /**
   * Index of the segment that contains the given distance along the lap. Every fix asks this,
   * so the lap is cut into buckets that each know their first segment: a lookup and a step or
   * two along, not a binary search over thousands of vertices.
   */
  segmentIndexAt(distanceAlongLapM: number): number {
    const d = this.vertexDistancesM;
    const last = d.length - 2;
    if (!(distanceAlongLapM >= 0)) return 0;
    const buckets = this.buckets ?? this.buildBuckets();
    const b = Math.min(buckets.length - 1, Math.floor(distanceAlongLapM / this.bucketM));
    let i = buckets[b]!;
    while (i < last && d[i + 1]! <= distanceAlongLapM) i++;
    return i;
  }

  private buckets: Int32Array | null = null;
  private bucketM = 1;

  private buildBuckets(): Int32Array {
    const d = this.vertexDistancesM;
    const segments = d.length - 1;
    // About one bucket per segment, each the first segment that reaches into it.
    this.bucketM = Math.max(this.lapLengthM / segments, 1e-3);
    const buckets = new Int32Array(Math.ceil(this.lapLengthM / this.bucketM) + 1);
    let i = 0;
    for (let b = 0; b < buckets.length; b++) {
      const startM = b * this.bucketM;
      while (i < segments - 1 && d[i + 1]! <= startM) i++;
      buckets[b] = i;
    }
    this.buckets = buckets;
    return buckets;
  }

  /** The point at a distance along one lap (clamped to the lap). */
  pointAtLapDistance(distanceAlongLapM: number): LonLat {
    const clamped = Math.min(Math.max(distanceAlongLapM, 0), this.lapLengthM);
    const i = this.segmentIndexAt(clamped);
    const a = this.coordinates[i]!;
    const b = this.coordinates[i + 1]!;
    const start = this.vertexDistancesM[i]!;
    const length = this.vertexDistancesM[i + 1]! - start;
    const t = length > 0 ? (clamped - start) / length : 0;
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
  }

  /**
   * The point at a distance along the whole race. On a closed course the race wraps round the
   * lap; on an open one it is clamped to the line.
   */
  pointAtRaceDistance(distanceAlongRaceM: number): LonLat {
    if (!this.isClosed) return this.pointAtLapDistance(distanceAlongRaceM);
    return this.pointAtLapDistance(wrapToLap(distanceAlongRaceM, this.lapLengthM));
  }

  /** How far along the lap the point of the line nearest to `lonLat` is, and how far away it is (m). */
  nearestLapDistance(lonLat: LonLat): { distanceAlongLapM: number; offsetM: number } {
    const { point, index, t } = this.ruler.pointOnLine(this.coordinates as LonLat[], lonLat);
    const start = this.vertexDistancesM[index]!;
    const end = this.vertexDistancesM[Math.min(index + 1, this.vertexDistancesM.length - 1)]!;
    return { distanceAlongLapM: start + (end - start) * t, offsetM: this.ruler.distance(point as LonLat, lonLat) };
  }

  /** The line between two distances along one lap (a road section), vertices included. */
  lapSlice(fromM: number, toM: number): LonLat[] {
    const from = Math.min(Math.max(fromM, 0), this.lapLengthM);
    const to = Math.min(Math.max(toM, from), this.lapLengthM);
    const out: LonLat[] = [this.pointAtLapDistance(from)];
    for (let i = this.segmentIndexAt(from) + 1; i < this.coordinates.length && this.vertexDistancesM[i]! < to; i++) {
      out.push(this.coordinates[i]!);
    }
    out.push(this.pointAtLapDistance(to));
    return out;
  }

  /** Direction of the course at a distance along the race, degrees clockwise from north. */
  bearingAtRaceDistance(distanceAlongRaceM: number): number {
    const local = this.isClosed ? wrapToLap(distanceAlongRaceM, this.lapLengthM) : distanceAlongRaceM;
    const i = this.segmentIndexAt(Math.min(Math.max(local, 0), this.lapLengthM));
    return this.ruler.bearing(this.coordinates[i]!, this.coordinates[i + 1]!);
  }
}

/** Distance along the current lap for a distance along the race. */
export function wrapToLap(distanceAlongRaceM: number, lapLengthM: number): number {
  const wrapped = distanceAlongRaceM % lapLengthM;
  return wrapped < 0 ? wrapped + lapLengthM : wrapped;
}

/**
 * 1-based lap number for a distance along the race; the finish line belongs to the last lap.
 * `startOffsetM` is how far past the lap line the race starts (a 5,000 m on a 400 m track starts
 * 200 m into the lap, so its first lap is the 200 m to the line).
 */
export function lapNumber(distanceAlongRaceM: number, lapLengthM: number, raceDistanceM: number, startOffsetM = 0): number {
  return Math.min(lapsInRace(lapLengthM, raceDistanceM, startOffsetM), Math.floor((distanceAlongRaceM + startOffsetM) / lapLengthM + 1e-9) + 1);
}

/** How many laps (the first and last possibly partial) a race of this distance has. */
export function lapsInRace(lapLengthM: number, raceDistanceM: number, startOffsetM = 0): number {
  return Math.max(1, Math.ceil((raceDistanceM + startOffsetM) / lapLengthM - 1e-9));
}
