// Generates the built-in TehRUN demo event (server/demo/): approximate Tehran geometry and
// invented participants. Run `npm run demo:generate` after changing it; the output is committed
// so `npm start` needs nothing else.
//
// - Men's 42.195 km, 21.1 km and 10 km: out-and-back courses from Azadi Square east along the
//   Azadi / Enghelab / Damavand axis, out on the southern carriageway and back on the northern one
//   15 m away, sharing the start and finish.
// - Women's 10 km: 25 laps of lane 1 of the track inside Azadi stadium.
// - Women's 32 km: 700 m loop in Beheshte Madaran park, private.
import CheapRuler from 'cheap-ruler';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LonLat } from '../shared/course-path.ts';
import { axisSections, DEMO_CUTOFF_SEC_PER_KM } from './closures.ts';
import { outAndBack, parkLoop } from './course-shapes.ts';
import { seededRandom } from '../shared/random.ts';

const outDir = fileURLToPath(new URL('../server/demo/', import.meta.url));
const random = seededRandom(20161104);

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

/**
 * Results categories: the race's sex, and a masters age group for about three runners in four.
 * (From the bib, not the seeded stream, so the names and tokens stay what they were.)
 */
function categoriesOf(sex: 'M' | 'W', bib: number): string[] {
  const ageGroup = ['', '35', '45', '55'][(bib * 7) % 4]!;
  return ageGroup === '' ? [sex] : [sex, `${sex}${ageGroup}`];
}

function participants(prefix: string, firstBib: number, count: number, firstNames: string[]) {
  const sex = firstNames === firstNamesWomen ? 'W' : 'M';
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${firstBib + i}`,
    bib: String(firstBib + i),
    name: `${random.pick(firstNames)} ${random.pick(familyNames)}`,
    deviceToken: token(),
    categories: categoriesOf(sex, firstBib + i),
  }));
}

/** Water every 5 km (and at the turn), first aid half-way and at the finish: what a road race has. */
function roadPoints(distanceM: number) {
  const points: Array<{ name: string; kind: string; distanceM: number }> = [];
  for (let m = 5000; m < distanceM; m += 5000) points.push({ name: `Water ${m / 1000} km`, kind: 'water', distanceM: m });
  points.push({ name: 'First aid', kind: 'medical', distanceM: Math.round(distanceM / 2) });
  points.push({ name: 'First aid, finish', kind: 'medical', distanceM: Math.round(distanceM - 50) });
  return points;
}

/** Tehran rises to the north: out along the axis is uphill, back is down (with a few waves). */
const axisElevation = (alongM: number, lengthM: number) => {
  const outM = alongM <= lengthM / 2 ? alongM : lengthM - alongM;
  return 1180 + 0.006 * outM + 6 * Math.sin(outM / 900);
};
/** The park's loop: a small rise and a dip each lap. */
const parkElevation = (alongM: number, lengthM: number) => 1290 + 4 * Math.sin((2 * Math.PI * alongM) / lengthM) + 2 * Math.sin((6 * Math.PI * alongM) / lengthM);

mkdirSync(`${outDir}/courses`, { recursive: true });
/**
 * A course file with an altitude on every position, from the distance along the line: what a
 * GPX track or a GeoJSON line with altitudes gives (the elevation profile, docs/RESULTS.md).
 */
const courseFile = (name: string, coordinates: LonLat[], elevationAt: (alongM: number, lengthM: number) => number) => {
  const ruler = new CheapRuler(coordinates[0]![1], 'meters');
  const along = [0];
  for (let i = 1; i < coordinates.length; i++) along.push(along[i - 1]! + ruler.distance(coordinates[i - 1]!, coordinates[i]!));
  const lengthM = along.at(-1)!;
  const withAltitude = coordinates.map(([lon, lat], i) => [lon, lat, Math.round(elevationAt(along[i]!, lengthM) * 10) / 10]);
  const feature = { type: 'Feature', properties: { name }, geometry: { type: 'LineString', coordinates: withAltitude } };
  writeFileSync(`${outDir}/courses/${name}.geojson`, `${JSON.stringify(feature)}\n`);
  return `courses/${name}.geojson`;
};

const event = {
  name: 'TehRUN demo',
  races: [
    {
      id: 'men-42k',
      name: "Men's marathon 42.195 km",
      names: { fa: 'ماراتن مردان ۴۲٫۱۹۵ کیلومتر' },
      distanceM: 42195,
      course: { kind: 'street', file: courseFile('street-42k', outAndBack(42195, 15), axisElevation) },
      pointsOfInterest: roadPoints(42195),
      cutoffPaceSecPerKm: DEMO_CUTOFF_SEC_PER_KM['men-42k'],
      participants: participants('m42', 1001, 110, firstNamesMen),
    },
    {
      id: 'men-21k',
      name: "Men's half marathon 21.1 km",
      names: { fa: 'نیمه‌ماراتن مردان ۲۱٫۱ کیلومتر' },
      distanceM: 21097.5,
      course: { kind: 'street', file: courseFile('street-21k', outAndBack(21097.5, 15), axisElevation) },
      pointsOfInterest: roadPoints(21097.5),
      cutoffPaceSecPerKm: DEMO_CUTOFF_SEC_PER_KM['men-21k'],
      participants: participants('m21', 2001, 92, firstNamesMen),
    },
    {
      id: 'men-10k',
      name: "Men's 10 km",
      names: { fa: '۱۰ کیلومتر مردان' },
      distanceM: 10000,
      course: { kind: 'street', file: courseFile('street-10k', outAndBack(10000, 15), axisElevation) },
      pointsOfInterest: roadPoints(10000),
      cutoffPaceSecPerKm: DEMO_CUTOFF_SEC_PER_KM['men-10k'],
      participants: participants('m10', 3001, 80, firstNamesMen),
    },
    {
      id: 'women-10k-stadium',
      name: "Women's 10 km, Azadi stadium track",
      names: { fa: '۱۰ کیلومتر زنان، پیست ورزشگاه آزادی' },
      distanceM: 10000,
      course: { kind: 'track', centre: { lat: 35.72447, lon: 51.27567 }, homeStraightBearingDeg: 168, lane: 1 },
      pointsOfInterest: [
        { name: 'Water table', kind: 'water', distanceM: 60 },
        { name: 'First aid', kind: 'medical', distanceM: 200 },
      ],
      participants: participants('w10', 4001, 118, firstNamesWomen),
    },
    {
      id: 'women-32k-park',
      name: "Women's 32 km, park loop",
      names: { fa: '۳۲ کیلومتر زنان، حلقهٔ پارک' },
      distanceM: 32000,
      private: true,
      key: 'demo-park-loop-key-7f3k9q',
      course: { kind: 'loop', lapLengthM: 700, file: courseFile('park-loop-700m', parkLoop(), parkElevation) },
      pointsOfInterest: [
        { name: 'Water and dates', kind: 'food', distanceM: 350 },
        { name: 'Friends', kind: 'cheer', distanceM: 600 },
      ],
      participants: participants('w32', 5001, 42, firstNamesWomen),
    },
  ],
};
// The axis is closed in kilometre sections, each used by every street race out and back.
const sections = axisSections(
  event.races.filter((r) => r.course.kind === 'street').map((r) => ({ raceId: r.id, distanceM: r.distanceM })),
).map((s) => ({ id: s.sectionId, name: s.name, spans: s.spans }));
writeFileSync(`${outDir}/tehrun.event.json`, `${JSON.stringify({ ...event, sections }, null, 2)}\n`);
const total = event.races.reduce((n, r) => n + r.participants.length, 0);
console.log(`wrote ${outDir}tehrun.event.json: ${event.races.length} races, ${total} participants`);
