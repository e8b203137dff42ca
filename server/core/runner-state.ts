// What is kept of each runner between fixes, and the small operations on it the race tracker's
// steps share: a fresh state, a copy for a store, a saved one made safe to continue from, and
// the running sums of an episode of surprising fixes and of a lost runner's re-acquisition.
import { RunnerStatus, type RunnerStatusCode } from '../../shared/protocol.ts';
import type { Episode } from './episode.ts';
import type { Estimate } from './finish.ts';
import type { Progress } from './progress-filter.ts';
import { UNTIMED_CROSSING } from './timing-points.ts';

/** What is kept of a runner between fixes; what a store persists. */
export interface RunnerState {
  participantId: string;
  status: RunnerStatusCode;
  /** Published progress; never decreases (but for an organiser's correction of laps). */
  distanceAlongRaceM: number;
  /**
   * Progress as of the last fix placed on the course: what road closures go by. The published
   * distance may run a little ahead of it on dead reckoning while fixes are unusable.
   */
  confirmedDistanceM: number;
  /** The smoothed estimate at the last trusted fix; null until the runner is first placed. */
  progress: Progress | null;
  /** The runner's pace over the last minutes, m/s: what a runner unseen for a while keeps. */
  paceMps: number | null;
  /**
   * The other explanation of the fixes: the runner standing still. Where (the mean of the fixes
   * since), with the sum of squared deviations and how many fixes, since when, and the log of how
   * much better it explains the recent fixes than running on (positive: standing).
   */
  stillAtM: number | null;
  stillSumSqM2: number;
  stillFixes: number;
  stillSinceMs: number | null;
  stillLlr: number;
  /** Recorded time of the newest fix seen, on course or not. */
  lastFixAtMs: number | null;
  /** Where the last placed fix put the runner (distance along the race), to hold a runner who may be standing. */
  lastPlacedM: number | null;
  /** The last accepted fix's miss from the estimate, in its standard deviations. */
  lastInnovationZ: number;
  /** Typical time between this runner's fixes (a running average), ms. */
  fixIntervalMs: number | null;
  /** Fixes in a row that could not be used (off the corridor, or implausible). */
  rejectedInARow: number;
  /** Recorded time of the first of the current run of fixes off the corridor. */
  offCorridorSinceMs: number | null;
  /**
   * A lost runner's candidate places far from where they were expected: the first and the latest
   * of a run of fixes that agree with each other, and how many. Believed once they show a runner
   * moving on along the course.
   */
  pendingFromM: number | null;
  pendingFromAtMs: number | null;
  pendingM: number | null;
  pendingAtMs: number | null;
  pendingFixes: number;
  /** Sums over the run of t (s since its first fix), t², distance (m past its first), t·distance and distance². */
  pendingSums: number[] | null;
  /**
   * An episode of fixes on the course that surprise the estimate (episode.ts): how many, since
   * when, the sums that tell a change of pace from a held reflection, what it was last judged, and
   * how far ahead the runner may be shown meanwhile.
   */
  suspectFixes: number;
  suspectSinceMs: number | null;
  suspectLastAtMs: number | null;
  suspectSums: number[] | null;
  suspectVerdict: number;
  suspectSlopeMps: number;
  suspectCapM: number | null;
  /**
   * A checkpoint of the estimate while the runner ran steadily: where, at what pace and how surely,
   * and when. Moved on only while the estimate stays where that pace leads, so that a reflection
   * taken for the runner (the estimate then jumps, or stops) leaves it behind; fixes that agree
   * with it again (`anchorAgrees` in a row) show the estimate was what went wrong.
   */
  anchorM: number | null;
  anchorMps: number;
  anchorVarM2: number;
  anchorAtMs: number | null;
  anchorAgrees: number;
  /** No fix since the checkpoint surprised the estimate, was refused, or showed the runner standing. */
  anchorClean: boolean;
  /**
   * How far to the side of the course the runner's fixes usually are (the last fix taken before
   * a sudden jump aside), and since when fixes have been thrown further aside all at once: a
   * reflected signal, not a runner (runners drift to the side, reflections jump).
   */
  sideM: number | null;
  sideJumpSinceMs: number | null;
  /** The runner's latest estimate on the move short of the finish line: where the crossing time is reckoned from. */
  approachM: number | null;
  approachAtMs: number | null;
  approachMps: number;
  approachSigmaM: number;
  /** When the estimate reached the finish line (interpolated), since the runner was last clearly short of it. */
  lineAtMs: number | null;
  lineSigmaMs: number | null;
  /** Fixes in a row placed past the line, and the sum of how far past (the finish rule's evidence). */
  beyondInARow: number;
  beyondSumM: number;
  batteryPct: number | null;
  finishedAtMs: number | null;
  /**
   * Crossing times of the race's timing points in order, packed (timing-points.ts): the k-th is
   * the k-th point. As many as the runner has passed.
   */
  crossings: number[];
}

export function setApproachFrom(runner: RunnerState, p: Progress): void {
  runner.approachM = p.distanceM;
  runner.approachAtMs = p.atMs;
  runner.approachMps = p.speedMps;
  runner.approachSigmaM = Math.sqrt(Math.max(p.varDD, 0));
}

export function setApproach(runner: RunnerState, e: Estimate): void {
  runner.approachM = e.distanceM;
  runner.approachAtMs = e.atMs;
  runner.approachMps = e.speedMps;
  runner.approachSigmaM = e.sigmaM;
}

const NO_SUMS: readonly number[] = [0, 0, 0, 0, 0];

export function clearSuspect(runner: RunnerState): void {
  if (runner.suspectFixes === 0) return;
  clearSuspectFields(runner);
}

function clearSuspectFields(runner: RunnerState): void {
  runner.suspectFixes = 0;
  runner.suspectSinceMs = runner.suspectLastAtMs = runner.suspectCapM = null;
  runner.suspectSums = null;
  runner.suspectVerdict = 0;
  runner.suspectSlopeMps = 0;
}

/** Adds a surprising fix, `missM` from the estimate `sinceSec` after the last trusted fix. */
export function addToEpisode(runner: RunnerState, sinceSec: number, missM: number): void {
  // (Kept only while an episode lasts: most runners most of the time have none.)
  runner.suspectSums = withPoint(runner.suspectSums, sinceSec, missM);
  runner.suspectFixes += 1;
}

/**
 * The sums a straight-line fit of y over t needs (t, t², y, t·y, y²), with one more point; made
 * when the first point comes (a runner without an episode or a re-acquisition keeps none).
 */
export function withPoint(sums: number[] | null, t: number, y: number): number[] {
  const out = sums ?? [0, 0, 0, 0, 0];
  out[0]! += t;
  out[1]! += t * t;
  out[2]! += y;
  out[3]! += t * y;
  out[4]! += y * y;
  return out;
}

export function episodeOf(runner: RunnerState): Episode {
  const [sumT, sumTT, sumMiss, sumTMiss, sumMissSq] = (runner.suspectSums ?? NO_SUMS) as [number, number, number, number, number];
  return { fixes: runner.suspectFixes, sumT, sumTT, sumMiss, sumTMiss, sumMissSq };
}

/** Where an episode's fixes were heading at `atSec`: their line over time, or the one miss so far. */
export function expectedMiss(e: Episode, atSec: number): number {
  if (e.fixes < 2) return e.sumMiss / Math.max(e.fixes, 1);
  const meanT = e.sumT / e.fixes;
  const meanMiss = e.sumMiss / e.fixes;
  const spreadTT = e.sumTT - e.fixes * meanT * meanT;
  const slope = spreadTT > 1e-9 ? (e.sumTMiss - e.fixes * meanT * meanMiss) / spreadTT : 0;
  return meanMiss + slope * (atSec - meanT);
}

export function clearPending(runner: RunnerState): void {
  if (runner.pendingFixes === 0 && runner.pendingM === null) return;
  runner.pendingM = runner.pendingAtMs = runner.pendingFromM = runner.pendingFromAtMs = null;
  runner.pendingFixes = 0;
  runner.pendingSums = null;
}

export function resetStill(runner: RunnerState, atM: number, atMs: number, llr: number): void {
  runner.stillAtM = atM;
  runner.stillSumSqM2 = 0;
  runner.stillFixes = 1;
  runner.stillSinceMs = atMs;
  runner.stillLlr = llr;
}

export function estimateOf(progress: Progress | null): Estimate | null {
  return progress === null ? null : { distanceM: progress.distanceM, speedMps: progress.speedMps, sigmaM: Math.sqrt(Math.max(progress.varDD, 0)), atMs: progress.atMs };
}

export function initialRunnerState(participantId: string): RunnerState {
  return {
    participantId,
    status: RunnerStatus.notStarted,
    distanceAlongRaceM: 0,
    confirmedDistanceM: 0,
    progress: null,
    paceMps: null,
    stillAtM: null,
    stillSumSqM2: 0,
    stillFixes: 0,
    stillSinceMs: null,
    stillLlr: 0,
    lastInnovationZ: 0,
    lastFixAtMs: null,
    lastPlacedM: null,
    fixIntervalMs: null,
    rejectedInARow: 0,
    offCorridorSinceMs: null,
    pendingFromM: null,
    pendingFromAtMs: null,
    pendingM: null,
    pendingAtMs: null,
    pendingFixes: 0,
    pendingSums: null,
    suspectFixes: 0,
    suspectSinceMs: null,
    suspectLastAtMs: null,
    suspectSums: null,
    suspectVerdict: 0,
    suspectSlopeMps: 0,
    suspectCapM: null,
    anchorM: null,
    anchorMps: 0,
    anchorVarM2: 0,
    anchorAtMs: null,
    anchorAgrees: 0,
    anchorClean: false,
    sideM: null,
    sideJumpSinceMs: null,
    approachM: null,
    approachAtMs: null,
    approachMps: 0,
    approachSigmaM: 0,
    lineAtMs: null,
    lineSigmaMs: null,
    beyondInARow: 0,
    beyondSumM: 0,
    batteryPct: null,
    finishedAtMs: null,
    crossings: [],
  };
}

/**
 * A copy of a runner's state that shares nothing with it (the tracker goes on changing its own):
 * what a store keeps. Much cheaper than a structured clone, thousands of times a second.
 */
export function copyRunnerState(state: RunnerState): RunnerState {
  return {
    ...state,
    progress: state.progress === null ? null : { ...state.progress },
    crossings: state.crossings.slice(),
    suspectSums: state.suspectSums?.slice() ?? null,
    pendingSums: state.pendingSums?.slice() ?? null,
  };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const finiteOrNull = (x: unknown): number | null => (finite(x) ? x : null);

/** Finished, or taken out of the race by an organiser: no fix moves them any more. */
export function isOutOfRace(status: RunnerStatusCode): boolean {
  return status === RunnerStatus.finished || status === RunnerStatus.dnf || status === RunnerStatus.dsq;
}

/** A saved state made safe to continue from, whatever version saved it. */
export function normaliseRunnerState(saved: Partial<RunnerState>, raceDistanceM: number, timingPointCount: number): RunnerState {
  const state = initialRunnerState(String(saved.participantId));
  const knownStatuses: number[] = Object.values(RunnerStatus);
  if (finite(saved.status) && knownStatuses.includes(saved.status)) state.status = saved.status;
  if (finite(saved.distanceAlongRaceM)) state.distanceAlongRaceM = Math.min(Math.max(saved.distanceAlongRaceM, 0), raceDistanceM);
  state.confirmedDistanceM = finite(saved.confirmedDistanceM) ? Math.min(Math.max(saved.confirmedDistanceM, 0), state.distanceAlongRaceM) : state.distanceAlongRaceM;
  state.lastFixAtMs = finiteOrNull(saved.lastFixAtMs);
  state.fixIntervalMs = finiteOrNull(saved.fixIntervalMs);
  state.batteryPct = finiteOrNull(saved.batteryPct);
  state.finishedAtMs = finiteOrNull(saved.finishedAtMs);
  state.paceMps = finiteOrNull(saved.paceMps);
  if (Array.isArray(saved.crossings)) {
    state.crossings = saved.crossings.filter((c): c is number => finite(c) && (c === UNTIMED_CROSSING || c >= 0)).slice(0, timingPointCount);
  }
  if (state.status === RunnerStatus.finished) state.distanceAlongRaceM = state.confirmedDistanceM = raceDistanceM;
  const p = saved.progress;
  if (p && [p.distanceM, p.speedMps, p.varDD, p.covDV, p.varVV, p.atMs].every(finite) && p.varDD > 0 && p.varVV > 0) {
    state.progress = { ...p };
    state.rejectedInARow = finite(saved.rejectedInARow) ? saved.rejectedInARow : 0;
    state.offCorridorSinceMs = finiteOrNull(saved.offCorridorSinceMs);
    state.stillAtM = finiteOrNull(saved.stillAtM);
    state.stillSumSqM2 = finite(saved.stillSumSqM2) ? Math.max(0, saved.stillSumSqM2) : 0;
    state.stillFixes = finite(saved.stillFixes) ? Math.max(0, Math.round(saved.stillFixes)) : 0;
    state.stillSinceMs = finiteOrNull(saved.stillSinceMs);
    state.stillLlr = finite(saved.stillLlr) ? Math.min(8, Math.max(-8, saved.stillLlr)) : 0;
    state.lastPlacedM = finiteOrNull(saved.lastPlacedM);
    if (state.stillAtM !== null && state.stillFixes < 1) state.stillFixes = 1;
    state.pendingFromM = finiteOrNull(saved.pendingFromM);
    state.pendingFromAtMs = finiteOrNull(saved.pendingFromAtMs);
    state.pendingM = finiteOrNull(saved.pendingM);
    state.pendingAtMs = finiteOrNull(saved.pendingAtMs);
    state.pendingFixes = finite(saved.pendingFixes) ? Math.max(0, Math.round(saved.pendingFixes)) : 0;
    const sums = (x: unknown): number[] | null => (Array.isArray(x) && x.length === 5 && x.every(finite) ? [...(x as number[])] : null);
    state.pendingSums = sums(saved.pendingSums);
    // (A run's first fix sums to zeros: it is the run's start that says whether there is one.)
    if (state.pendingFromM === null || state.pendingFromAtMs === null) state.pendingFixes = 0;
    // An episode of surprising fixes under way, so that whoever continues judges it as the writer would have.
    state.suspectFixes = finite(saved.suspectFixes) ? Math.max(0, Math.round(saved.suspectFixes)) : 0;
    state.suspectSums = sums(saved.suspectSums);
    state.suspectSinceMs = finiteOrNull(saved.suspectSinceMs);
    state.suspectLastAtMs = finiteOrNull(saved.suspectLastAtMs);
    state.suspectCapM = finiteOrNull(saved.suspectCapM);
    state.suspectVerdict = saved.suspectVerdict === 1 || saved.suspectVerdict === 2 ? saved.suspectVerdict : 0;
    state.suspectSlopeMps = finite(saved.suspectSlopeMps) ? saved.suspectSlopeMps : 0;
    if (state.suspectFixes === 0 || state.suspectSums === null || state.suspectSinceMs === null) clearSuspectFields(state);
    state.lastInnovationZ = finite(saved.lastInnovationZ) ? saved.lastInnovationZ : 0;
    state.anchorM = finiteOrNull(saved.anchorM);
    state.anchorAtMs = finiteOrNull(saved.anchorAtMs);
    state.anchorMps = finite(saved.anchorMps) ? Math.max(0, saved.anchorMps) : 0;
    state.anchorVarM2 = finite(saved.anchorVarM2) ? Math.max(0, saved.anchorVarM2) : 0;
    state.anchorAgrees = finite(saved.anchorAgrees) ? Math.max(0, Math.round(saved.anchorAgrees)) : 0;
    state.anchorClean = saved.anchorClean === true;
    if (state.anchorM === null || state.anchorAtMs === null) state.anchorM = state.anchorAtMs = null;
    state.sideM = finiteOrNull(saved.sideM);
    state.sideJumpSinceMs = state.sideM === null ? null : finiteOrNull(saved.sideJumpSinceMs);
    state.approachM = finiteOrNull(saved.approachM);
    state.approachAtMs = finiteOrNull(saved.approachAtMs);
    state.approachMps = finite(saved.approachMps) ? saved.approachMps : 0;
    state.approachSigmaM = finite(saved.approachSigmaM) ? saved.approachSigmaM : 0;
    state.lineAtMs = finiteOrNull(saved.lineAtMs);
    state.lineSigmaMs = finiteOrNull(saved.lineSigmaMs);
    state.beyondInARow = finite(saved.beyondInARow) ? saved.beyondInARow : 0;
    state.beyondSumM = finite(saved.beyondSumM) ? saved.beyondSumM : 0;
  } else if (state.status === RunnerStatus.onCourse || state.status === RunnerStatus.offCourse) {
    // Placed before, but with nothing to predict from: found again from the published distance.
    state.progress = null;
  }
  return state;
}
