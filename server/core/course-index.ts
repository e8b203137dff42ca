// A spatial index (flatbush) over the segments of one lap, for finding a runner again after a
// long gap or when lost, without scanning the whole course.
import Flatbush from 'flatbush';
import type { CoursePath } from '../../shared/course-path.ts';

export class CourseIndex {
  private readonly index: Flatbush;

  constructor(private readonly path: CoursePath) {
    const coords = path.coordinates;
    this.index = new Flatbush(coords.length - 1);
    for (let i = 0; i < coords.length - 1; i++) {
      const a = coords[i]!;
      const b = coords[i + 1]!;
      this.index.add(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1]));
    }
    this.index.finish();
  }

  /** Indices of the segments whose bounding box comes within `radiusM` of the point. */
  segmentsNear(lon: number, lat: number, radiusM: number): number[] {
    const dLon = radiusM / this.path.ruler.kx;
    const dLat = radiusM / this.path.ruler.ky;
    return this.index.search(lon - dLon, lat - dLat, lon + dLon, lat + dLat);
  }
}
