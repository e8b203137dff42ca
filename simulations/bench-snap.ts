// Snapping speed: the engine's windowed search against Turf's nearestPointOnLine over the whole
// course, on the demo marathon (42.195 km, 3,951 vertices), in the same process. Also the memory
// a runner's state costs. Run with `npm run bench`.
import { readFileSync } from 'node:fs';
import * as turf from '@turf/turf';
import { buildCourse } from '../server/core/course.ts';
import { DEMO_EVENT_FILE } from '../server/config.ts';
import { RaceTracker } from '../server/core/race-tracker.ts';
import { packCrossing, withCrossing } from '../server/core/timing-points.ts';
import { loadEventFile } from '../server/event/event-file.ts';
import { noisyRun } from './noisy-run.ts';
import { seededRandom } from '../shared/random.ts';

const event = await loadEventFile(DEMO_EVENT_FILE);
const marathon = event.races.find((r) => r.raceId === 'men-42k')!;
// The line as drawn, not as the server keeps it: the server drops points within 0.5 m of the
// line (most of this synthetic course's 3,951), but a course recorded by GPS keeps thousands,
// and that is what the engine must be fast on.
const drawn = JSON.parse(readFileSync(new URL('../server/demo/courses/street-42k.geojson', import.meta.url), 'utf8')) as GeoJSON.Feature<GeoJSON.LineString>;
const course = buildCourse({ kind: 'street', coordinates: drawn.geometry.coordinates.map((p): [number, number] => [p[0]!, p[1]!]) }, marathon.distanceM);
const startMs = 0;
// Ten runners at different paces, a fix every 5 s: the fixes a phone would send.
const runs = Array.from({ length: 10 }, (_, i) =>
  noisyRun(course, { startMs, paceSecPerKm: 200 + i * 25, intervalSec: 5, noiseM: 8, random: seededRandom(100 + i) }),
);
const fixCount = runs.reduce((n, r) => n + r.length, 0);
const ids = runs.map((_, r) => `p${r}`);

/** Work done and time taken by one side of the comparison, summed over its slices. */
interface Tally {
  label: string;
  done: number;
  elapsedMs: number;
}

/** Runs `body` (which returns how many fixes it placed) for at least `minMs`, adding to the tally. */
function slice(tally: Tally, minMs: number, body: () => number): void {
  const t0 = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < minMs) {
    tally.done += body();
    elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  tally.elapsedMs += elapsedMs;
}

process.stdout.write(`snapping on ${marathon.name}: ${course.path.coordinates.length} vertices, ${fixCount} fixes per pass\n`);
let sink = 0;
// The engine as the race tracker runs it: the windowed search plus the progress filter, with
// each runner's state carried from fix to fix.
const runEngine = (): number => {
  for (const [r, run] of runs.entries()) {
    // (One id string per runner, as the server has: a string built per call is hashed per call.)
    const id = ids[r]!;
    const tracker = new RaceTracker('bench', course, startMs, [{ participantId: id, bib: '1', name: 'x' }]);
    for (const { fix } of run) sink += tracker.applyFix(id, fix).distanceAlongRaceM;
  }
  return fixCount;
};
const line = turf.lineString(course.path.coordinates.map((c) => [...c]));
const sample = runs[0]!.filter((_, i) => i % 10 === 0).map((r) => r.fix);
// (A few fixes a call: one Turf call on the whole marathon takes about 10 ms.)
let next = 0;
const runTurf = (): number => {
  for (let k = 0; k < 5; k++) {
    const fix = sample[next++ % sample.length]!;
    sink += turf.nearestPointOnLine(line, [fix.lon, fix.lat]).properties.pointDistance;
  }
  return 5;
};
// The two take turns in short slices, so that a machine busy with something else for a few
// seconds slows both alike and the ratio stays fair.
const engine: Tally = { label: 'engine (windowed search + progress filter)', done: 0, elapsedMs: 0 };
const naive: Tally = { label: 'turf.nearestPointOnLine, whole course', done: 0, elapsedMs: 0 };
runEngine(); // warm-up
runTurf();
for (let round = 0; round < 8; round++) {
  slice(engine, 250, runEngine);
  slice(naive, 250, runTurf);
}
const perSecond = (t: Tally) => (t.done / t.elapsedMs) * 1000;
for (const t of [engine, naive]) process.stdout.write(`  ${t.label.padEnd(44)} ${Math.round(perSecond(t)).toLocaleString('en').padStart(12)} fixes/s\n`);
process.stdout.write(`  ratio engine / Turf: ${Math.round(perSecond(engine) / perSecond(naive)).toLocaleString('en')}x\n`);

// Memory per runner state: heap growth per runner of a race with 20,000 runners, each given ten
// minutes of a phone's fixes (one every 5 s, with noise, at real clock times). A state holds more
// than after one fix: a time in milliseconds since 1970 or a distance with a fraction is a number
// V8 keeps apart from the object (16 bytes each), and a runner in a race has many of them.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  const runners = 20_000;
  const clockStartMs = Date.UTC(2026, 3, 26, 7, 0, 0);
  const tenMinutes = Array.from({ length: 10 }, (_, i) =>
    noisyRun(course, { startMs: clockStartMs, paceSecPerKm: 200 + i * 25, intervalSec: 5, noiseM: 8, random: seededRandom(500 + i) }).slice(0, 120),
  );
  const participants = Array.from({ length: runners }, (_, i) => ({ participantId: `p${i}`, bib: String(i), name: `Runner ${i}` }));
  // (A small race first, so that the code these paths compile to is not counted as the runners'.)
  const warmUp = new RaceTracker('warm-up', course, clockStartMs, participants.slice(0, 500));
  for (const [i, p] of participants.slice(0, 500).entries()) for (const { fix } of tenMinutes[i % tenMinutes.length]!) warmUp.applyFix(p.participantId, fix);
  sink += warmUp.takeDelta(clockStartMs + 600_000)?.entries.length ?? 0;
  gc();
  const before = process.memoryUsage().heapUsed;
  const tracker = new RaceTracker('bench', course, clockStartMs, participants);
  for (const [i, p] of participants.entries()) for (const { fix } of tenMinutes[i % tenMinutes.length]!) tracker.applyFix(p.participantId, fix);
  // (The server's ticker takes the changes for spectators every second; so does this, twice: the
  // set of changed runners lets go of its large table only at the tick after it was emptied.)
  sink += tracker.takeDelta(clockStartMs + 600_000)?.entries.length ?? 0;
  sink += tracker.takeDelta(clockStartMs + 601_000)?.entries.length ?? 0;
  gc();
  const placed = process.memoryUsage().heapUsed;
  const bytesPerRunner = (placed - before) / runners;
  process.stdout.write(`  memory per runner state (tracker, 10 minutes into the race): ${Math.round(bytesPerRunner)} bytes\n`);
  // Crossing times, added one at a time as the engine records them: as many as the demo's
  // 32 km on the 700 m park loop has timing points (45 lap lines and the finish), the most of any race.
  const points = 46;
  for (const p of participants) {
    const state = tracker.runnerState(p.participantId)!;
    for (let k = 0; k < points; k++) state.crossings = withCrossing(state.crossings, packCrossing(1_800_000_000_000 + k * 96_000, 1_500));
  }
  gc();
  const bytesPerCrossing = (process.memoryUsage().heapUsed - placed) / runners / points;
  const withCrossings = (n: number) => Math.round(bytesPerRunner + bytesPerCrossing * n).toLocaleString('en');
  process.stdout.write(
    `  crossing times: ${bytesPerCrossing.toFixed(1)} bytes each; 1 KB holds ${Math.floor((1024 - bytesPerRunner) / bytesPerCrossing)} points` +
      ` (the 10 km on the 400 m track, 25 points: ${withCrossings(25)} bytes; the 32 km on the 700 m loop, 46 points: ${withCrossings(46)} bytes)\n`,
  );
  // And a race run to its end: the women's 10 km on the 400 m track, every runner finished with
  // the crossing times the engine recorded (24 lap lines and the finish).
  const trackRace = event.races.find((r) => r.raceId === 'women-10k-stadium')!;
  const finishers = 5_000;
  const laps = Array.from({ length: 10 }, (_, i) =>
    noisyRun(trackRace.course, { startMs: clockStartMs, paceSecPerKm: 200 + i * 25, intervalSec: 5, noiseM: 8, random: seededRandom(600 + i) }),
  );
  const trackParticipants = participants.slice(0, finishers);
  // (This race's paths warmed up first too: the code they compile to lives on the same heap.)
  const trackWarmUp = new RaceTracker('warm-up-track', trackRace.course, clockStartMs, trackParticipants.slice(0, 500));
  for (const [i, p] of trackParticipants.slice(0, 500).entries()) for (const { fix } of laps[i % laps.length]!) trackWarmUp.applyFix(p.participantId, fix);
  sink += trackWarmUp.takeDelta(clockStartMs + 3_600_000)?.entries.length ?? 0;
  gc();
  const beforeTrack = process.memoryUsage().heapUsed;
  const trackTracker = new RaceTracker('bench-track', trackRace.course, clockStartMs, trackParticipants);
  for (const [i, p] of trackParticipants.entries()) for (const { fix } of laps[i % laps.length]!) trackTracker.applyFix(p.participantId, fix);
  sink += trackTracker.takeDelta(clockStartMs + 3_600_000)?.entries.length ?? 0;
  sink += trackTracker.takeDelta(clockStartMs + 3_601_000)?.entries.length ?? 0;
  gc();
  const finishedBytes = (process.memoryUsage().heapUsed - beforeTrack) / finishers;
  const held = trackParticipants.map((p) => trackTracker.runnerState(p.participantId)!);
  const finished = held.filter((st) => st.finishedAtMs !== null).length;
  const meanCrossings = held.reduce((n, st) => n + st.crossings.length, 0) / finishers;
  process.stdout.write(
    `  a finished runner of the 10 km on the track (${finished} of ${finishers} finished, ${meanCrossings.toFixed(1)} crossing times each): ${Math.round(finishedBytes)} bytes\n`,
  );
  // The most a runner of that race holds: past the last lap line, 24 crossing times, and the fixes
  // about that line still being gathered to refine its time (split-fit.ts).
  const lastLineM = trackRace.course.raceDistanceM - trackRace.course.lapLengthM;
  gc();
  const beforeLastLap = process.memoryUsage().heapUsed;
  const lastLapTracker = new RaceTracker('bench-last-lap', trackRace.course, clockStartMs, trackParticipants);
  for (const [i, p] of trackParticipants.entries()) {
    for (const { fix, trueDistanceAlongRaceM } of laps[i % laps.length]!) {
      if (trueDistanceAlongRaceM > lastLineM + 20) break;
      lastLapTracker.applyFix(p.participantId, fix);
    }
  }
  sink += lastLapTracker.takeDelta(clockStartMs + 3_600_000)?.entries.length ?? 0;
  sink += lastLapTracker.takeDelta(clockStartMs + 3_601_000)?.entries.length ?? 0;
  gc();
  const lastLapBytes = (process.memoryUsage().heapUsed - beforeLastLap) / finishers;
  const lastLap = trackParticipants.map((p) => lastLapTracker.runnerState(p.participantId)!);
  const gathering = lastLap.filter((st) => st.splitFit !== null).length;
  const lastLapCrossings = lastLap.reduce((n, st) => n + st.crossings.length, 0) / finishers;
  process.stdout.write(
    `  a runner of the 10 km on the track 20 m past the last lap line (${lastLapCrossings.toFixed(1)} crossing times each, ${gathering} of ${finishers} gathering fixes to refine the last): ${Math.round(lastLapBytes)} bytes\n`,
  );
  sink += tracker.sequence + trackTracker.sequence + lastLapTracker.sequence; // (all kept to the end, so none is collected while another is measured)
} else {
  process.stdout.write('  memory per runner state: run with node --expose-gc (npm run bench does)\n');
}
if (sink === 42) process.stdout.write('\n');
