// Course shapes for the demo and the evaluations: an out-and-back street course along Tehran's
// Azadi / Enghelab / Damavand axis (approximate) and a park loop.
import CheapRuler from 'cheap-ruler';
import type { LonLat } from '../shared/course-path.ts';

// Centre line of the street axis, west to east (approximate).
const streetAxis: LonLat[] = [
  [51.338, 35.6997], // Azadi Square
  [51.3525, 35.7003],
  [51.3702, 35.7008],
  [51.3913, 35.7009], // Enghelab Square
  [51.4065, 35.7012],
  [51.4188, 35.7017], // Ferdowsi Square
  [51.4447, 35.7021], // Imam Hossein Square
  [51.462, 35.7046],
  [51.4805, 35.7083],
  [51.4985, 35.7131],
  [51.5152, 35.7178],
  [51.5301, 35.7232],
  [51.5452, 35.7288],
  [51.5611, 35.7335],
  [51.5753, 35.7381],
];
const ruler = new CheapRuler(35.71, 'meters');
const VERTEX_SPACING_M = 10.7;

/** The axis densified to a vertex every few metres, as a traced course would be. */
function densify(line: LonLat[], spacingM: number): LonLat[] {
  const out: LonLat[] = [line[0]!];
  for (let i = 1; i < line.length; i++) {
    const a = line[i - 1]!;
    const b = line[i]!;
    const steps = Math.max(1, Math.round(ruler.distance(a, b) / spacingM));
    for (let s = 1; s <= steps; s++) out.push([a[0] + ((b[0] - a[0]) * s) / steps, a[1] + ((b[1] - a[1]) * s) / steps]);
  }
  return out;
}

/** Shifts a line sideways: positive to the left of its direction. */
function offsetLine(line: LonLat[], leftM: number): LonLat[] {
  return line.map((p, i) => {
    const a = line[Math.max(0, i - 1)]!;
    const b = line[Math.min(line.length - 1, i + 1)]!;
    const bearingRad = (ruler.bearing(a, b) * Math.PI) / 180;
    // Left of a bearing: rotate by -90 degrees.
    return ruler.offset(p, -Math.cos(bearingRad) * leftM, Math.sin(bearingRad) * leftM) as LonLat;
  });
}

function round(line: LonLat[]): LonLat[] {
  return line.map(([lon, lat]) => [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7]);
}

/**
 * Out along the southern carriageway for half the distance, a U-turn, back on the northern one,
 * `gapM` away.
 */
export function outAndBack(distanceM: number, gapM: number): LonLat[] {
  const axis = densify(streetAxis, VERTEX_SPACING_M);
  const halfM = distanceM / 2 - (Math.PI * gapM) / 4; // the U-turn covers the rest
  const outLeg = ruler.lineSliceAlong(0, halfM, axis) as LonLat[];
  const southern = offsetLine(outLeg, -gapM / 2);
  const northern = offsetLine(outLeg, gapM / 2).reverse();
  // The U-turn: a half circle round the end of the out leg.
  const end = outLeg[outLeg.length - 1]!;
  const bearing = ruler.bearing(outLeg[outLeg.length - 2]!, end);
  const turn: LonLat[] = [];
  for (let k = 1; k < 8; k++) {
    const angle = bearing + 90 - (180 * k) / 8; // from the right side round the front to the left
    turn.push(ruler.destination(end, gapM / 2, angle) as LonLat);
  }
  return round([...southern, ...turn, ...northern]);
}

/** A 700 m loop round a park lawn (an ellipse of 133 m by 87 m). */
export function parkLoop(): LonLat[] {
  const centre: LonLat = [51.4577, 35.7596];
  const semiMajorM = 133;
  const semiMinorM = 87;
  const rotationRad = (25 * Math.PI) / 180;
  const points: LonLat[] = [];
  const steps = 140;
  for (let k = 0; k <= steps; k++) {
    const t = (2 * Math.PI * k) / steps;
    const x = semiMajorM * Math.cos(t);
    const y = semiMinorM * Math.sin(t);
    const east = x * Math.cos(rotationRad) - y * Math.sin(rotationRad);
    const north = x * Math.sin(rotationRad) + y * Math.cos(rotationRad);
    points.push(ruler.offset(centre, east, north) as LonLat);
  }
  points[points.length - 1] = points[0]!;
  return round(points);
}

