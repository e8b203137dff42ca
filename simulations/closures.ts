// The road-closure evaluation: the demo's street races run at simulated speed through the real
// race trackers, with runners who stop, walk, or leave the course and come back; after each
// tick the sections are evaluated and checked against the truth. `npm run sim -- closures`.
import { RunnerStatus } from '../shared/protocol.ts';
import { sectionStatus, type ClosureRace, type SectionDefinition, type SectionStatus } from '../server/core/closures.ts';
import { RaceTracker } from '../server/core/race-tracker.ts';
import type { LoadedEvent, LoadedRace } from '../server/event/event-file.ts';
import { seededRandom, type Random } from '../shared/random.ts';

/** Cutoff paces of the demo's street races (the virtual sweeper), s/km. */
export const DEMO_CUTOFF_SEC_PER_KM: Record<string, number> = { 'men-42k': 497, 'men-21k': 511, 'men-10k': 540 };

/**
 * Road sections of the demo's street network: a kilometre of the Azadi / Enghelab / Damavand axis
 * each, both carriageways. Every race that runs over a kilometre uses it twice, out and back, at
 * its own distances along the race.
 */
export function axisSections(races: ReadonlyArray<{ raceId: string; distanceM: number }>): Array<Pick<SectionDefinition, 'sectionId' | 'name' | 'spans'>> {
  const longestHalfM = Math.max(...races.map((r) => r.distanceM / 2));
  const sections: Array<Pick<SectionDefinition, 'sectionId' | 'name' | 'spans'>> = [];
  for (let k = 0; k * 1000 < longestHalfM; k++) {
    const spans = races.flatMap((race) => {
      const halfM = race.distanceM / 2;
      if (k * 1000 >= halfM) return [];
      const outToM = Math.min(halfM, (k + 1) * 1000);
      return [
        { raceId: race.raceId, fromM: k * 1000, toM: outToM },
        { raceId: race.raceId, fromM: race.distanceM - outToM, toM: race.distanceM - k * 1000 },
      ];
    });
    sections.push({ sectionId: `axis-km${k + 1}`, name: `Axis km ${k + 1}`, spans });
  }
  return sections;
}

/** The axis sections with planned times for races starting at `startsAtMs`. */
export function demoSections(event: LoadedEvent, startsAtMs: number): SectionDefinition[] {
  const streetRaces = event.races.filter((r) => r.course.kind === 'street' && r.raceId in DEMO_CUTOFF_SEC_PER_KM);
  return axisSections(streetRaces).map((section) => ({
    ...section,
    plannedCloseAtMs: startsAtMs - 30 * 60_000,
    // Planned: the road reopens when the slowest allowed runner of the last race has passed.
    plannedReopenAtMs: Math.max(...section.spans.map((s) => startsAtMs + (s.toM / 1000) * DEMO_CUTOFF_SEC_PER_KM[s.raceId]! * 1000)),
  }));
}

interface SimulatedRunner {
  participantId: string;
  speedMps: number;
  /** Stretches of the race where the runner stops, walks or leaves the course. */
  stopAtM: number | null;
  stopForSec: number;
  walkFromM: number | null;
  detourAtM: number | null;
  abandonsAtM: number | null;
  distanceM: number;
  pausedUntilSec: number;
  detourUntilSec: number;
  abandoned: boolean;
  finishedAtSec: number | null;
  /** The race's sweeper: at the cutoff pace, never stopping. */
  isSweeper: boolean;
}

function simulatedRunners(race: LoadedRace, random: Random): SimulatedRunner[] {
  const cutoff = DEMO_CUTOFF_SEC_PER_KM[race.raceId]!;
  return race.participants.map((p, index) => {
    const isSweeper = index === race.participants.length - 1;
    const pace = isSweeper ? cutoff : random.between(190, cutoff * 0.97);
    const roll = isSweeper ? 1 : random.next();
    return {
      isSweeper,
      participantId: p.participantId,
      speedMps: 1000 / pace,
      stopAtM: roll < 0.15 ? random.between(0.1, 0.95) * race.distanceM : null,
      stopForSec: random.between(60, 900),
      walkFromM: roll >= 0.15 && roll < 0.25 ? random.between(0.3, 0.9) * race.distanceM : null,
      detourAtM: roll >= 0.25 && roll < 0.32 ? random.between(0.1, 0.9) * race.distanceM : null,
      abandonsAtM: roll >= 0.32 && roll < 0.35 ? random.between(0.2, 0.8) * race.distanceM : null,
      distanceM: 0,
      pausedUntilSec: 0,
      detourUntilSec: 0,
      abandoned: false,
      finishedAtSec: null,
    };
  });
}

export interface SectionOutcome {
  sectionId: string;
  name: string;
  readyAtMs: number | null;
  plannedReopenAtMs: number | null;
  /** Prediction made 30 and 10 minutes before the section became ready, and its error. */
  errorAt30MinMs: number | null;
  errorAt10MinMs: number | null;
}

export interface ClosuresResult {
  startsAtMs: number;
  sections: SectionOutcome[];
  /** Times a section was reported ready while a runner was truly still before its end. */
  safetyViolations: string[];
  runners: number;
  fixes: number;
  /** Runners still racing at the end of the simulation who were not shown finished. */
  notShownFinished: string[];
}

export interface ClosuresOptions {
  seed: number;
  /** Seconds between a runner's fixes, and between evaluations of the sections. */
  tickSec?: number;
  /** GPS noise per axis, metres. */
  noiseM?: number;
  /** Only these races (default: the three street races). */
  raceIds?: string[];
  /** At most this many runners per race (default: all). */
  runnersPerRace?: number;
}

export function runClosures(event: LoadedEvent, options: ClosuresOptions): ClosuresResult {
  const random = seededRandom(options.seed);
  const tickSec = options.tickSec ?? 10;
  const noiseM = options.noiseM ?? 6;
  const startsAtMs = Date.UTC(2026, 10, 4, 4, 0);
  const races = event.races.filter(
    (r) => r.raceId in DEMO_CUTOFF_SEC_PER_KM && (options.raceIds === undefined || options.raceIds.includes(r.raceId)),
  );
  const sections = demoSections({ ...event, races }, startsAtMs);
  const simulations = races.map((race) => {
    const participants = race.participants.slice(0, options.runnersPerRace ?? race.participants.length);
    return {
      race,
      tracker: new RaceTracker(race.raceId, race.course, startsAtMs, participants),
      runners: simulatedRunners({ ...race, participants }, random),
    };
  });
  const readyAt = new Map<string, number>();
  const predictions = new Map<string, Array<{ atMs: number; predictedMs: number | null }>>();
  const safetyViolations: string[] = [];
  let fixes = 0;
  // Walkers may be out long after the cutoff: run until every section is ready, or a walk's time.
  const lastSec = Math.max(...races.map((r) => r.distanceM / 1.2)) + 1800;

  for (let t = tickSec; t <= lastSec && readyAt.size < sections.length; t += tickSec) {
    const nowMs = startsAtMs + t * 1000;
    for (const { race, tracker, runners } of simulations) {
      for (const runner of runners) {
        // The truth moves on. Past the line a runner walks on down the finish chute for half a
        // minute, the phone still on for ten.
        if (runner.abandoned) continue;
        const path = race.course.path;
        if (runner.finishedAtSec !== null) {
          const afterSec = t - runner.finishedAtSec;
          if (afterSec > 600) continue;
          const end = path.pointAtRaceDistance(race.distanceM);
          const beyond = path.ruler.destination(end, Math.min(afterSec, 30) * 1.2, path.bearingAtRaceDistance(race.distanceM));
          const [lon, lat] = path.ruler.offset(beyond, random.gaussian(noiseM), random.gaussian(noiseM));
          tracker.applyFix(runner.participantId, { lon, lat, recordedAtMs: nowMs, accuracyM: Math.round(noiseM * 1.5), speedMps: afterSec <= 30 ? 1.2 : 0 });
          fixes++;
          continue;
        }
        if (runner.abandonsAtM !== null && runner.distanceM >= runner.abandonsAtM) {
          runner.abandoned = true; // leaves the race; the organisers mark them DNF at once
          continue;
        }
        if (t < runner.pausedUntilSec) {
          // stopped, or away from the course
        } else {
          let speed = runner.speedMps;
          if (runner.walkFromM !== null && runner.distanceM >= runner.walkFromM) speed = Math.min(speed, 1.3);
          runner.distanceM = Math.min(race.distanceM, runner.distanceM + speed * tickSec);
          if (runner.distanceM >= race.distanceM) runner.finishedAtSec = t;
          if (runner.stopAtM !== null && runner.distanceM >= runner.stopAtM) {
            runner.stopAtM = null;
            runner.pausedUntilSec = t + runner.stopForSec;
          }
          if (runner.detourAtM !== null && runner.distanceM >= runner.detourAtM) {
            runner.detourAtM = null;
            runner.pausedUntilSec = t + 240;
            runner.detourUntilSec = t + 240;
          }
        }
        // The phone reports it.
        let point = path.pointAtRaceDistance(runner.distanceM);
        if (t < runner.detourUntilSec) point = path.ruler.offset(point, 0, 150) as [number, number];
        const [lon, lat] = path.ruler.offset(point, random.gaussian(noiseM), random.gaussian(noiseM));
        // Walking off the course and back reports a walking speed: the engine may carry the
        // runner on for a few seconds before it sees they left.
        const moving = t >= runner.pausedUntilSec || t < runner.detourUntilSec;
        const walking = t < runner.detourUntilSec || (runner.walkFromM !== null && runner.distanceM >= runner.walkFromM);
        tracker.applyFix(runner.participantId, {
          lon,
          lat,
          recordedAtMs: nowMs,
          accuracyM: Math.round(noiseM * 1.5),
          speedMps: moving ? Math.max(0, (walking ? Math.min(runner.speedMps, 1.3) : runner.speedMps) + random.gaussian(0.3)) : 0,
        });
        fixes++;
      }
    }
    const view = new Map<string, ClosureRace>(
      simulations.map(({ race, tracker, runners }) => [
        race.raceId,
        {
          raceId: race.raceId,
          startsAtMs,
          raceDistanceM: race.distanceM,
          cutoffPaceSecPerKm: DEMO_CUTOFF_SEC_PER_KM[race.raceId]!,
          runners: runners.map((r) => {
            const state = tracker.runnerState(r.participantId)!;
            return {
              participantId: r.participantId,
              distanceAlongRaceM: state.confirmedDistanceM,
              status: state.status,
              abandoned: r.abandoned,
              isSweeper: r.isSweeper,
              speedMps: state.progress?.speedMps ?? null,
            };
          }),
        },
      ]),
    );
    for (const section of sections) {
      if (readyAt.has(section.sectionId)) continue;
      const status: SectionStatus = sectionStatus(section, view, nowMs, null);
      (predictions.get(section.sectionId) ?? predictions.set(section.sectionId, []).get(section.sectionId)!).push({
        atMs: nowMs,
        predictedMs: status.predictedReadyAtMs,
      });
      if (status.state !== 'readyToReopen') continue;
      readyAt.set(section.sectionId, nowMs);
      // The safety property, against the truth: nobody still racing is before the section's end.
      for (const span of section.spans) {
        const sim = simulations.find((s) => s.race.raceId === span.raceId)!;
        for (const runner of sim.runners) {
          if (!runner.abandoned && runner.distanceM < span.toM) {
            safetyViolations.push(`${section.sectionId} ready at ${t} s with ${runner.participantId} at ${runner.distanceM.toFixed(0)} m (< ${span.toM.toFixed(0)} m)`);
          }
        }
      }
    }
  }

  const predictionBefore = (sectionId: string, readyMs: number, beforeMs: number): number | null => {
    const history = predictions.get(sectionId) ?? [];
    const at = history.filter((h) => h.atMs <= readyMs - beforeMs).at(-1);
    return at === undefined || at.predictedMs === null ? null : at.predictedMs - readyMs;
  };
  const notShownFinished = simulations.flatMap(({ tracker, runners }) =>
    runners
      .filter((r) => !r.abandoned && tracker.runnerState(r.participantId)!.status !== RunnerStatus.finished)
      .map((r) => {
        const state = tracker.runnerState(r.participantId)!;
        return `${r.participantId} (truth ${r.distanceM.toFixed(0)} m, shown ${state.distanceAlongRaceM.toFixed(0)} m, status ${state.status})`;
      }),
  );
  return {
    startsAtMs,
    safetyViolations,
    notShownFinished,
    runners: simulations.reduce((n, s) => n + s.runners.length, 0),
    fixes,
    sections: sections.map((s) => {
      const readyMs = readyAt.get(s.sectionId) ?? null;
      return {
        sectionId: s.sectionId,
        name: s.name,
        readyAtMs: readyMs,
        plannedReopenAtMs: s.plannedReopenAtMs,
        errorAt30MinMs: readyMs === null ? null : predictionBefore(s.sectionId, readyMs, 30 * 60_000),
        errorAt10MinMs: readyMs === null ? null : predictionBefore(s.sectionId, readyMs, 10 * 60_000),
      };
    }),
  };
}

export function formatClosures(result: ClosuresResult): string {
  const clock = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(11, 16));
  const minutes = (ms: number | null) => (ms === null ? '-' : `${ms >= 0 ? '+' : ''}${(ms / 60_000).toFixed(1)} min`);
  const header = ['section', 'ready to reopen', 'planned', 'ready - planned', 'prediction 30 min before', '10 min before'];
  const rows = result.sections.map((s) => [
    s.name,
    clock(s.readyAtMs),
    clock(s.plannedReopenAtMs),
    s.readyAtMs === null || s.plannedReopenAtMs === null ? '-' : minutes(s.readyAtMs - s.plannedReopenAtMs),
    minutes(s.errorAt30MinMs),
    minutes(s.errorAt10MinMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `start ${clock(result.startsAtMs)} UTC; ${result.runners} runners, ${result.fixes} fixes; prediction columns: predicted minus actual`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    result.notShownFinished.length === 0
      ? 'Every runner still racing was shown finished.'
      : `Not shown finished: ${result.notShownFinished.length} (${result.notShownFinished.slice(0, 3).join('; ')}…)`,
    result.safetyViolations.length === 0
      ? 'Safety: no section was reported ready while a runner was still before it.'
      : `Safety VIOLATED ${result.safetyViolations.length} times:\n  ${result.safetyViolations.slice(0, 10).join('\n  ')}`,
  ].join('\n');
}
