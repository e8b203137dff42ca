// Closed road sections: which can reopen behind the last runner. A section is a piece of road
// that one or more races run over (the marathon, half and 10 km share streets), each race over
// its own stretch of distance along the race. Pure functions over the races' runner positions;
// the caller passes time in.
//
// The safety rule: a section is "ready to reopen" only when every runner who has not abandoned,
// in every race that uses it, has passed its end, and so has each race's sweeper. A runner who
// has not been seen yet, or is off course, has not passed.
import { RunnerStatus, type RunnerStatusCode, type SectionState, type SectionStatus } from '../../shared/protocol.ts';

export interface SectionSpan {
  raceId: string;
  /** The stretch of the race on this section, metres along the race. */
  fromM: number;
  toM: number;
}

export interface SectionDefinition {
  sectionId: string;
  name: string;
  spans: SectionSpan[];
  plannedCloseAtMs: number | null;
  plannedReopenAtMs: number | null;
}

/** What the closures need of one runner. */
export interface ClosureRunner {
  participantId: string;
  distanceAlongRaceM: number;
  status: RunnerStatusCode;
  /** Out of the race (DNF, DSQ): no longer waited for. */
  abandoned: boolean;
  /** The tracked sweeper (a vehicle or marshal closing the field). */
  isSweeper: boolean;
  /** Recent speed along the course, when known. */
  speedMps: number | null;
}

export interface ClosureRace {
  raceId: string;
  startsAtMs: number;
  raceDistanceM: number;
  /** Pace of the virtual sweeper when the race has no tracked one; null: no sweeper is waited for. */
  cutoffPaceSecPerKm: number | null;
  runners: readonly ClosureRunner[];
}

export type { SectionState, SectionStatus } from '../../shared/protocol.ts';

/** Below this a runner's own speed says they are stopped: their average pace predicts better. */
const MOVING_MPS = 0.5;
/** A runner with no usable pace is assumed to walk. */
const WALKING_MPS = 1.2;

/**
 * How far past a section's end a runner must be shown before they count as past it: published
 * positions can be ahead of the truth by a few metres, and a section must never be reported
 * clear with a runner still on it.
 */
export const PASSED_MARGIN_M = 30;

function hasPassed(runner: ClosureRunner, toM: number): boolean {
  // Off course is not past: a runner who left the course may come back onto the section.
  return (
    runner.status === RunnerStatus.finished ||
    (runner.status === RunnerStatus.onCourse && runner.distanceAlongRaceM >= toM + PASSED_MARGIN_M)
  );
}

function hasReached(runner: ClosureRunner, fromM: number): boolean {
  return runner.status !== RunnerStatus.notStarted && runner.distanceAlongRaceM >= fromM;
}

/** Where the race's sweeper is: the last tracked one, else the virtual one at the cutoff pace. */
function sweeperAtM(race: ClosureRace, nowMs: number): number | null {
  const tracked = race.runners.filter((r) => r.isSweeper && !r.abandoned);
  if (tracked.length > 0) {
    const at = (r: ClosureRunner) =>
      r.status === RunnerStatus.finished ? Infinity : r.status === RunnerStatus.onCourse ? r.distanceAlongRaceM - PASSED_MARGIN_M : 0;
    return Math.min(...tracked.map(at));
  }
  if (race.cutoffPaceSecPerKm === null) return null;
  const virtualM = ((nowMs - race.startsAtMs) / 1000 / race.cutoffPaceSecPerKm) * 1000;
  // Past the finish the virtual sweeper has passed everything.
  return virtualM >= race.raceDistanceM ? Infinity : Math.max(0, virtualM);
}

/** When a runner is expected at a distance along the race. */
function etaMs(runner: ClosureRunner, race: ClosureRace, toM: number, nowMs: number): number {
  const atM = runner.status === RunnerStatus.notStarted ? 0 : runner.distanceAlongRaceM;
  const elapsedSec = Math.max(1, (nowMs - race.startsAtMs) / 1000);
  const averageMps = atM / elapsedSec;
  let speed = runner.speedMps !== null && runner.speedMps >= MOVING_MPS ? runner.speedMps : averageMps;
  if (!(speed >= MOVING_MPS)) speed = WALKING_MPS;
  return nowMs + (Math.max(0, toM - atM) / speed) * 1000;
}

export function sectionStatus(
  section: SectionDefinition,
  races: ReadonlyMap<string, ClosureRace>,
  nowMs: number,
  reopenedAtMs: number | null,
): SectionStatus {
  let runnersOn = 0;
  let runnersToPass = 0;
  let anyReached = false;
  let sweeperPassed = true;
  let first: { id: string; m: number } | null = null;
  let last: { id: string; m: number } | null = null;
  let predictedReadyAtMs: number | null = nowMs;
  const onAfterReopen: string[] = [];
  for (const span of section.spans) {
    const race = races.get(span.raceId);
    if (!race) continue;
    for (const runner of race.runners) {
      if (runner.abandoned || runner.isSweeper) continue;
      const passed = hasPassed(runner, span.toM);
      const reached = hasReached(runner, span.fromM);
      if (reached) anyReached = true;
      if (passed) continue;
      runnersToPass++;
      if (predictedReadyAtMs !== null) predictedReadyAtMs = Math.max(predictedReadyAtMs, etaMs(runner, race, span.toM, nowMs));
      if (!reached) continue;
      runnersOn++;
      const m = runner.distanceAlongRaceM - span.fromM;
      if (!first || m > first.m) first = { id: runner.participantId, m };
      if (!last || m < last.m) last = { id: runner.participantId, m };
      if (reopenedAtMs !== null) onAfterReopen.push(runner.participantId);
    }
    const sweeperM = sweeperAtM(race, nowMs);
    if (sweeperM !== null && sweeperM < span.toM) {
      sweeperPassed = false;
      const tracked = race.runners.find((r) => r.isSweeper && !r.abandoned);
      const sweeperEtaMs = tracked
        ? etaMs(tracked, race, span.toM, nowMs)
        : race.startsAtMs + (span.toM / 1000) * race.cutoffPaceSecPerKm! * 1000;
      if (predictedReadyAtMs !== null) predictedReadyAtMs = Math.max(predictedReadyAtMs, sweeperEtaMs);
    }
  }
  let state: SectionState;
  if (reopenedAtMs !== null) state = 'reopened';
  else if (runnersToPass === 0 && sweeperPassed) state = 'readyToReopen';
  else if (runnersToPass === 0) state = 'clearBehindLast';
  else state = anyReached ? 'inUse' : 'waiting';
  return {
    sectionId: section.sectionId,
    name: section.name,
    spans: section.spans,
    state,
    runnersOn,
    firstOn: first?.id ?? null,
    lastOn: last?.id ?? null,
    runnersToPass,
    sweeperPassed,
    predictedReadyAtMs: state === 'readyToReopen' || state === 'reopened' ? null : predictedReadyAtMs,
    plannedReopenAtMs: section.plannedReopenAtMs,
    reopenedAtMs,
    runnersOnAfterReopen: onAfterReopen,
  };
}

/** A section per kilometre of a race, for a course whose organisers defined none. */
export function sectionsPerKilometre(raceId: string, raceName: string, raceDistanceM: number, everyM = 1000): SectionDefinition[] {
  const sections: SectionDefinition[] = [];
  for (let fromM = 0, k = 1; fromM < raceDistanceM; fromM += everyM, k++) {
    sections.push({
      sectionId: `${raceId}-km${k}`,
      name: `${raceName}, km ${k}`,
      spans: [{ raceId, fromM, toM: Math.min(raceDistanceM, fromM + everyM) }],
      plannedCloseAtMs: null,
      plannedReopenAtMs: null,
    });
  }
  return sections;
}
