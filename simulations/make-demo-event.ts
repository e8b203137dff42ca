// Generates the built-in TehRUN demo event (server/demo/): approximate Tehran geometry and
// invented participants. Run `npm run demo:generate` after changing it; the output is committed
// so `npm start` needs nothing else.
//
// - Men's 42.195 km, 21.1 km and 10 km: out-and-back courses from Azadi Square east along the
//   Azadi / Enghelab / Damavand axis, out on the southern carriageway and back on the northern one
//   15 m away, sharing the start and finish.
// - Women's 10 km: 25 laps of lane 1 of the track inside Azadi stadium.
// - Women's 32 km: 700 m loop in Beheshte Madaran park, private.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import CheapRuler from 'cheap-ruler';
import type { LonLat } from '../shared/course-path.ts';
import { seededRandom } from './random.ts';

const outDir = fileURLToPath(new URL('../server/demo/', import.meta.url));
const random = seededRandom(20161104);

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
const CARRIAGEWAY_GAP_M = 15;
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

/** Out along the southern carriageway for half the distance, a U-turn, back on the northern one. */
function outAndBack(distanceM: number): LonLat[] {
  const axis = densify(streetAxis, VERTEX_SPACING_M);
  const halfM = distanceM / 2 - (Math.PI * CARRIAGEWAY_GAP_M) / 4; // the U-turn covers the rest
  const outLeg = ruler.lineSliceAlong(0, halfM, axis) as LonLat[];
  const southern = offsetLine(outLeg, -CARRIAGEWAY_GAP_M / 2);
  const northern = offsetLine(outLeg, CARRIAGEWAY_GAP_M / 2).reverse();
  // The U-turn: a half circle round the end of the out leg.
  const end = outLeg[outLeg.length - 1]!;
  const bearing = ruler.bearing(outLeg[outLeg.length - 2]!, end);
  const turn: LonLat[] = [];
  for (let k = 1; k < 8; k++) {
    const angle = bearing + 90 - (180 * k) / 8; // from the right side round the front to the left
    turn.push(ruler.destination(end, CARRIAGEWAY_GAP_M / 2, angle) as LonLat);
  }
  return round([...southern, ...turn, ...northern]);
}

function parkLoop(): LonLat[] {
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

const firstNamesMen = [
  'Arash', 'Kian', 'Dariush', 'Babak', 'Omid', 'Reza', 'Farid', 'Navid', 'Tomas', 'Lukas', 'Mateo',
  'Jonas', 'Pieter', 'Kenji', 'Haruto', 'Diego', 'Rafael', 'Samuel', 'Ibrahim', 'Yusuf', 'Emre',
  'Aleksander', 'Mikkel', 'Oskar', 'Thabo', 'Kwame', 'Arjun', 'Rohan', 'Liam', 'Callum', 'Ruben',
  'Nils', 'Matteo', 'Giorgi', 'Levan', 'Bruno', 'Andrei', 'Pavel', 'Jamal', 'Hamid',
];
const firstNamesWomen = [
  'Shirin', 'Nasrin', 'Parisa', 'Leila', 'Maryam', 'Sahar', 'Yasmin', 'Niloufar', 'Tara', 'Azadeh',
  'Roya', 'Mina', 'Elif', 'Ingrid', 'Astrid', 'Sofia', 'Lucia', 'Chiara', 'Aiko', 'Yui', 'Amara',
  'Zanele', 'Priya', 'Ananya', 'Freya', 'Isla', 'Marta', 'Ewa', 'Nino', 'Ana', 'Camila', 'Valentina',
  'Hana', 'Amina', 'Fatemeh', 'Golnar', 'Setareh', 'Ava', 'Noor', 'Helga',
];
const familyNames = [
  'Rahimi', 'Karimi', 'Tehrani', 'Moradi', 'Farahani', 'Javadi', 'Sadeghi', 'Novak', 'Kowalski',
  'Jensen', 'Lindqvist', 'Van Dijk', 'Moreau', 'Rossi', 'Fernandez', 'Silva', 'Okafor', 'Mensah',
  'Nkosi', 'Tanaka', 'Sato', 'Kim', 'Nguyen', 'Sharma', 'Iyer', 'Yilmaz', 'Demir', 'Haddad',
  'Mansour', 'Beridze', 'Popescu', 'Horvat', 'Kovacs', 'Murphy', 'Campbell', 'Schneider', 'Weber',
  'Larsen', 'Costa', 'Ortega',
];

function token(): string {
  let out = '';
  for (let i = 0; i < 24; i++) out += '0123456789abcdefghijklmnopqrstuvwxyz'[random.int(36)];
  return out;
}

function participants(prefix: string, firstBib: number, count: number, firstNames: string[]) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${firstBib + i}`,
    bib: String(firstBib + i),
    name: `${random.pick(firstNames)} ${random.pick(familyNames)}`,
    deviceToken: token(),
  }));
}

mkdirSync(`${outDir}/courses`, { recursive: true });
const courseFile = (name: string, coordinates: LonLat[]) => {
  const feature = { type: 'Feature', properties: { name }, geometry: { type: 'LineString', coordinates } };
  writeFileSync(`${outDir}/courses/${name}.geojson`, `${JSON.stringify(feature)}\n`);
  return `courses/${name}.geojson`;
};

const event = {
  name: 'TehRUN demo',
  races: [
    {
      id: 'men-42k',
      name: "Men's marathon 42.195 km",
      distanceM: 42195,
      course: { kind: 'street', file: courseFile('street-42k', outAndBack(42195)) },
      participants: participants('m42', 1001, 110, firstNamesMen),
    },
    {
      id: 'men-21k',
      name: "Men's half marathon 21.1 km",
      distanceM: 21097.5,
      course: { kind: 'street', file: courseFile('street-21k', outAndBack(21097.5)) },
      participants: participants('m21', 2001, 92, firstNamesMen),
    },
    {
      id: 'men-10k',
      name: "Men's 10 km",
      distanceM: 10000,
      course: { kind: 'street', file: courseFile('street-10k', outAndBack(10000)) },
      participants: participants('m10', 3001, 80, firstNamesMen),
    },
    {
      id: 'women-10k-stadium',
      name: "Women's 10 km, Azadi stadium track",
      distanceM: 10000,
      course: { kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 },
      participants: participants('w10', 4001, 118, firstNamesWomen),
    },
    {
      id: 'women-32k-park',
      name: "Women's 32 km, park loop",
      distanceM: 32000,
      private: true,
      key: 'demo-park-loop-key-7f3k9q',
      course: { kind: 'loop', lapLengthM: 700, file: courseFile('park-loop-700m', parkLoop()) },
      participants: participants('w32', 5001, 42, firstNamesWomen),
    },
  ],
};
writeFileSync(`${outDir}/tehrun.event.json`, `${JSON.stringify(event, null, 2)}\n`);
const total = event.races.reduce((n, r) => n + r.participants.length, 0);
console.log(`wrote ${outDir}tehrun.event.json: ${event.races.length} races, ${total} participants`);
