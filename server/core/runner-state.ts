// What is kept of each runner between fixes, and the small operations on it the race tracker's
// steps share: a fresh state, a copy for a store, a saved one made safe to continue from, and
// the running sums of an episode of surprising fixes and of a lost runner's re-acquisition.
import { RunnerStatus, type RunnerStatusCode } from '../../shared/protocol.ts';
import type { Episode } from './episode.ts';
import type { Estimate } from './finish.ts';
import type { Progress } from './progress-filter.ts';
import { FIT_LENGTH, type SplitFit } from './split-fit.ts';
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
  /**
   * Mean distance of the runner's placed fixes from the course line, decimetres (over about the
   * last 30, counted in `offsetFixes`): the accuracy of a phone that reports none.
   */
  offsetMeanDm: number | null;
  offsetFixes: number;
  /** Fixes in a row that could not be used (off the corridor, or implausible). */
  rejectedInARow: number;
  /** Recorded time of the first of the current run of fixes off the corridor. */
  offCorridorSinceMs: number | null;
  /**
   * A lost runner's candidate places far from where they were expected (null when there are
   * none): a run of fixes that agree with each other, believed once it shows a runner moving on
   * along the course. (Kept apart from the state, as most runners most of the time have none.)
   */
  pending: PendingRun | null;
  /** An episode of fixes on the course that surprise the estimate (null outside one). */
  suspect: SuspectEpisode | null;
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
  /**
   * The runner's latest estimate on the move short of the finish line: where the crossing time is
   * reckoned from. Most of the race it is the estimate itself (the same object: estimates are
   * replaced, never changed, so sharing it costs one reference, not four numbers).
   */
  approach: Progress | null;
  /** When the estimate reached the finish line (interpolated), since the runner was last clearly short of it. */
  reachedLine: { atMs: number; sigmaMs: number } | null;
  /** Fixes in a row placed past the line, and the sum of how far past (the finish rule's evidence); null when the last was not. */
  beyond: { fixes: number; sumM: number } | null;
  batteryPct: number | null;
  /**
   * The phone has reported a speed above zero: it measures speed, so its zeros mean standing. Many
   * phones and apps send 0 when they have no speed to give (Android's Location reads 0 without
   * one); until such a phone reports more than 0, its zeros and headings are not used.
   */
  phoneMeasuresSpeed: boolean;
  /** The phone has reported a heading other than 0 (one without a heading sends 0): its zeros mean north. */
  phoneMeasuresHeading: boolean;
  finishedAtMs: number | null;
  /**
   * Crossing times of the race's timing points in order, packed (timing-points.ts): the k-th is
   * the k-th point. As many as the runner has passed.
   */
  crossings: readonly number[];
  /**
   * The fixes about the next timing point (or the one just passed), gathered to refine its
   * crossing time (split-fit.ts); null away from the points.
   */
  splitFit: SplitFit | null;
}

/** The scatter of a runner's fixes about the course line is a running mean over about this many placed fixes. */
export const SCATTER_FIXES = 30;

/** No crossings yet: one array for every such runner (crossings are replaced, never pushed to). */
const NO_CROSSINGS: readonly number[] = Object.freeze([]);

/** An approach that is not an estimate of the filter's (a runner's stand short of the line). */
export function approachAt(e: Estimate): Progress {
  return { distanceM: e.distanceM, speedMps: e.speedMps, varDD: e.sigmaM * e.sigmaM, covDV: 0, varVV: 0, atMs: e.atMs };
}

/** The first and the latest of a lost runner's run of agreeing fixes, and how many. */
export interface PendingRun {
  fromM: number;
  fromAtMs: number;
  atM: number;
  atMs: number;
  fixes: number;
  /** Sums over the run of t (s since its first fix), t², distance (m past its first), t·distance and distance². */
  sums: number[] | null;
}

/**
 * An episode of fixes on the course that surprise the estimate (episode.ts): how many, since
 * when, the sums that tell a change of pace from a held reflection, what it was last judged
 * (0 unsure, 1 a held offset, 2 a new pace), the offset's drift, and how far ahead the runner
 * may be shown meanwhile.
 */
export interface SuspectEpisode {
  fixes: number;
  sinceMs: number;
  lastAtMs: number;
  /** Sums over the episode of t (s since the last trusted fix), t², miss, t·miss and miss². */
  sums: number[];
  verdict: number;
  slopeMps: number;
  capM: number | null;
  /** Judged a reflection held off the estimate from fixes on the course (not only from where fixes off it project). */
  heldOnCourse: boolean;
  /** Its first fix lay further behind the last trusted estimate than a runner who stopped since can be. */
  jumpedBack: boolean;
}

export function clearSuspect(runner: RunnerState): void {
  runner.suspect = null;
}

/** Adds a surprising fix recorded at `atMs`, `missM` from the estimate `sinceSec` after the last trusted fix. */
export function addToEpisode(runner: RunnerState, atMs: number, sinceSec: number, missM: number): SuspectEpisode {
  const episode = (runner.suspect ??= { fixes: 0, sinceMs: atMs, lastAtMs: atMs, sums: [0, 0, 0, 0, 0], verdict: 0, slopeMps: 0, capM: null, heldOnCourse: false, jumpedBack: false });
  withPoint(episode.sums, sinceSec, missM);
  episode.fixes += 1;
  episode.lastAtMs = atMs;
  return episode;
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

export function episodeOf(suspect: SuspectEpisode): Episode {
  const [sumT, sumTT, sumMiss, sumTMiss, sumMissSq] = suspect.sums as [number, number, number, number, number];
  return { fixes: suspect.fixes, sumT, sumTT, sumMiss, sumTMiss, sumMissSq };
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
  runner.pending = null;
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
    offsetMeanDm: null,
    offsetFixes: 0,
    rejectedInARow: 0,
    offCorridorSinceMs: null,
    pending: null,
    suspect: null,
    anchorM: null,
    anchorMps: 0,
    anchorVarM2: 0,
    anchorAtMs: null,
    anchorAgrees: 0,
    anchorClean: false,
    sideM: null,
    sideJumpSinceMs: null,
    approach: null,
    reachedLine: null,
    beyond: null,
    batteryPct: null,
    phoneMeasuresSpeed: false,
    phoneMeasuresHeading: false,
    finishedAtMs: null,
    crossings: NO_CROSSINGS,
    splitFit: null,
  };
}

/**
 * A copy of a runner's state that shares nothing with it (the tracker goes on changing its own):
 * what a store keeps. Much cheaper than a structured clone, thousands of times a second.
 */
export function copyRunnerState(state: RunnerState): RunnerState {
  const progress = state.progress === null ? null : { ...state.progress };
  return {
    ...state,
    progress,
    // (The approach is usually the estimate itself, and the copy shares it the same way.)
    approach: state.approach === null ? null : state.approach === state.progress ? progress : { ...state.approach },
    crossings: state.crossings.length === 0 ? NO_CROSSINGS : state.crossings.slice(),
    reachedLine: state.reachedLine === null ? null : { ...state.reachedLine },
    beyond: state.beyond === null ? null : { ...state.beyond },
    pending: state.pending === null ? null : { ...state.pending, sums: state.pending.sums?.slice() ?? null },
    suspect: state.suspect === null ? null : { ...state.suspect, sums: state.suspect.sums.slice() },
    splitFit: state.splitFit === null ? null : state.splitFit.slice(),
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
  state.offsetMeanDm = finite(saved.offsetMeanDm) && saved.offsetMeanDm >= 0 ? Math.round(saved.offsetMeanDm) : null;
  state.offsetFixes = state.offsetMeanDm !== null && finite(saved.offsetFixes) ? Math.min(Math.max(0, Math.round(saved.offsetFixes)), SCATTER_FIXES) : 0;
  state.batteryPct = finiteOrNull(saved.batteryPct);
  state.phoneMeasuresSpeed = saved.phoneMeasuresSpeed === true;
  state.phoneMeasuresHeading = saved.phoneMeasuresHeading === true;
  state.finishedAtMs = finiteOrNull(saved.finishedAtMs);
  // (A pace is never below standing still: a damaged one would also set the checkpoint's pace.)
  const paceMps = finiteOrNull(saved.paceMps);
  state.paceMps = paceMps !== null && paceMps >= 0 ? paceMps : null;
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
    const sums = (x: unknown): number[] | null => (Array.isArray(x) && x.length === 5 && x.every(finite) ? [...(x as number[])] : null);
    const count = (x: unknown): number => (finite(x) ? Math.max(0, Math.round(x)) : 0);
    const run = saved.pending;
    if (run && [run.fromM, run.fromAtMs, run.atM, run.atMs].every(finite)) {
      // (A run's first fix sums to zeros: it is the run's start that says whether there is one.)
      state.pending = { fromM: run.fromM, fromAtMs: run.fromAtMs, atM: run.atM, atMs: run.atMs, fixes: count(run.fixes), sums: sums(run.sums) };
    }
    // An episode of surprising fixes under way, so that whoever continues judges it as the writer would have.
    const ep = saved.suspect;
    const epSums = ep ? sums(ep.sums) : null;
    if (ep && epSums && count(ep.fixes) > 0 && finite(ep.sinceMs) && finite(ep.lastAtMs)) {
      state.suspect = {
        fixes: count(ep.fixes),
        sinceMs: ep.sinceMs,
        lastAtMs: ep.lastAtMs,
        sums: epSums,
        verdict: ep.verdict === 1 || ep.verdict === 2 ? ep.verdict : 0,
        slopeMps: finite(ep.slopeMps) ? ep.slopeMps : 0,
        capM: finiteOrNull(ep.capM),
        heldOnCourse: ep.heldOnCourse === true,
        jumpedBack: ep.jumpedBack === true,
      };
    }
    // The fixes gathered about a timing point, so that whoever continues refines its time alike.
    const fit: unknown = saved.splitFit;
    if (Array.isArray(fit) && fit.length === FIT_LENGTH && fit.every(finite)) {
      const [point, , fixes, short] = fit as number[];
      if (Number.isInteger(point) && point! >= 0 && point! < timingPointCount - 1 && Number.isInteger(fixes) && fixes! > 0 && Number.isInteger(short) && short! >= 0 && short! <= fixes!) {
        state.splitFit = (fit as number[]).slice();
      }
    }
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
    const a = saved.approach;
    if (a && [a.distanceM, a.speedMps, a.varDD, a.atMs].every(finite) && a.varDD >= 0) {
      state.approach = approachAt({ distanceM: a.distanceM, speedMps: a.speedMps, sigmaM: Math.sqrt(a.varDD), atMs: a.atMs });
    }
    const line = saved.reachedLine;
    if (line && finite(line.atMs) && finite(line.sigmaMs) && line.sigmaMs >= 0) state.reachedLine = { atMs: line.atMs, sigmaMs: line.sigmaMs };
    const past = saved.beyond;
    if (past && finite(past.fixes) && past.fixes >= 1 && finite(past.sumM)) state.beyond = { fixes: Math.round(past.fixes), sumM: past.sumM };
  } else if (state.status === RunnerStatus.onCourse || state.status === RunnerStatus.offCourse) {
    // Placed before, but with nothing to predict from: found again from the published distance.
    state.progress = null;
  }
  return state;
}
