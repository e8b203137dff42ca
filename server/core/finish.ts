// The finish decision, and the interpolation of crossing times. Pure functions: the race tracker
// gathers the evidence, these decide.
//
// A line is crossed when the evidence brackets it, never because the runner arrived near it:
//   - beyond: a fix clearly past the line (down the run-out of a street course, or on round the
//     lap), or a few in a row whose mean is, with the smoothed estimate at the line too;
//   - standing: the runner stands still at the line or past it, and enough fixes say so that a
//     runner standing 10 m short cannot pass for one at the line;
//   - silence: the last fixes put the runner at the line, moving towards and through it or
//     standing at it, and then nothing more came.
// The time is when the smoothed estimate reached the line, interpolated between the fixes either
// side of it with the runner's pace, so it does not depend on how soon the evidence came.

export interface FinishOptions {
  /** One fix this many standard deviations (and `beyondMinM`) past the line is a crossing. */
  beyondOneFixSigmas: number;
  /** Fixes in a row past the line, whose mean is this many standard deviations of that mean past it, are a crossing. */
  beyondSeveralSigmas: number;
  beyondMinM: number;
  /**
   * A fix further than this many standard deviations aside of the line, and `beyondMaxOffsetMinM`,
   * is no evidence of where along it the runner is (a reflection).
   */
  beyondMaxOffsetSigmas: number;
  beyondMaxOffsetMinM: number;
  /** Standing this close to the line (or past it) is standing at the line. */
  lineToleranceM: number;
  /** How surely: the standing position's lower bound, in its standard deviations, must be at the line. */
  standingConfidenceSigmas: number;
  standingMinFixes: number;
  /** A runner last seen moving this close to the line was about to cross it. */
  silentMovingWithinM: number;
  /** Below this speed a runner is not moving through the line. */
  movingMinMps: number;
}

export const defaultFinishOptions: FinishOptions = {
  // A still runner 10 m short with 8 m of noise shows one fix 3.5 sigmas past the line about
  // once in 10,000 fixes; two in a row whose mean is 2.5 sigmas of that mean past it, about once
  // in a million.
  beyondOneFixSigmas: 3.5,
  beyondSeveralSigmas: 2.5,
  beyondMinM: 8,
  // A fix of a runner on the line falls this far aside about once in a hundred.
  beyondMaxOffsetSigmas: 3,
  // (And no nearer than a runner on one side of a wide finishing road, whose phone states 3 m.)
  beyondMaxOffsetMinM: 20,
  lineToleranceM: 3,
  standingConfidenceSigmas: 1.5,
  standingMinFixes: 3,
  silentMovingWithinM: 20,
  movingMinMps: 1,
};

/** Where the runner was estimated to be at a moment, and how surely. */
export interface Estimate {
  distanceM: number;
  speedMps: number;
  sigmaM: number;
  atMs: number;
}

export interface FinishEvidence {
  lineM: number;
  /**
   * The fix just placed: distance along the race (past the line when beyond it), and how far
   * aside of the course line (or the run-out past a street course's end) it lies. Null when
   * checking silence.
   */
  fix: { alongM: number; sigmaM: number; atMs: number; offsetM: number; phoneStill?: boolean } | null;
  /** Fixes in a row before this one placed past the line, and the sum of how far past. */
  beyondInARow: number;
  beyondSumM: number;
  /** The smoothed estimate now, and the one before this fix (the last trusted one). */
  estimate: Estimate;
  before: Estimate | null;
  /** When the estimate reached the line since the runner was last clearly short of it. */
  reachedLine: { atMs: number; sigmaMs: number } | null;
  /** The runner is standing still: where (mean of the fixes since), its variance and how many fixes. */
  standing: { atM: number; varianceM2: number; fixes: number; sinceMs: number } | null;
  /** For a silence check: the time now and when the runner becomes silent. */
  silence: { nowMs: number; silentAfterMs: number; lastFixAtMs: number } | null;
  /** The fix has just found a lost runner: it cannot confirm anything yet. */
  justFound: boolean;
}

export type FinishRule = 'beyond' | 'standing' | 'silence';

export type FinishDecision =
  | { finished: false; beyondInARow: number; beyondSumM: number }
  | { finished: true; rule: FinishRule; atMs: number; sigmaMs: number; beyondInARow: number; beyondSumM: number };

export function decideFinish(e: FinishEvidence, o: FinishOptions = defaultFinishOptions): FinishDecision {
  let beyondInARow = 0;
  let beyondSumM = 0;
  // A fix thrown far aside of the line (a reflection) says nothing of where along it the runner
  // is: it neither counts as past the line nor breaks a run of fixes that were. (An outlier 40 m
  // past the end and 48 m aside finished a runner standing 10 m short of the line.)
  const aside = e.fix !== null && e.fix.offsetM > Math.max(o.beyondMaxOffsetMinM, o.beyondMaxOffsetSigmas * e.fix.sigmaM);
  if (e.fix && aside && !e.justFound) {
    beyondInARow = e.beyondInARow;
    beyondSumM = e.beyondSumM;
  } else if (e.fix && !e.justFound) {
    const pastM = e.fix.alongM - e.lineM;
    if (pastM > 0) {
      beyondInARow = e.beyondInARow + 1;
      beyondSumM = e.beyondSumM + pastM;
    }
    // (Not alone while the phone says the runner stands still: one clearly past the line, when the
    // fix before was not, ran there since, which the phone's speed, from the signal's Doppler
    // shift, would show; an outlier 65 m past the line finished a runner standing 10 m short.)
    const oneFix = pastM >= Math.max(o.beyondMinM, o.beyondOneFixSigmas * e.fix.sigmaM) && !(e.fix.phoneStill === true && e.beyondInARow === 0);
    const meanPastM = beyondInARow > 0 ? beyondSumM / beyondInARow : 0;
    const several = beyondInARow >= 2 && meanPastM >= Math.max(o.beyondMinM, (o.beyondSeveralSigmas * e.fix.sigmaM) / Math.sqrt(beyondInARow));
    // The smoothed estimate must agree the runner is at the line: a reflected fix ahead of a
    // runner still short of it is not a crossing.
    if ((oneFix || several) && e.estimate.distanceM >= e.lineM - o.lineToleranceM) {
      const at = e.reachedLine ?? crossingFromEstimates(e.lineM, e.before, { distanceM: e.fix.alongM, speedMps: 0, sigmaM: e.fix.sigmaM, atMs: e.fix.atMs });
      if (at) return { finished: true, rule: 'beyond', ...at, beyondInARow, beyondSumM };
    }
  }
  const s = e.standing;
  if (s && s.fixes >= o.standingMinFixes && !e.justFound) {
    const lowerM = s.atM - o.standingConfidenceSigmas * Math.sqrt(s.varianceM2);
    if (lowerM >= e.lineM - o.lineToleranceM) {
      const at = e.reachedLine ?? { atMs: s.sinceMs, sigmaMs: sigmaFromGap(e.before, s.sinceMs) };
      return { finished: true, rule: 'standing', ...at, beyondInARow, beyondSumM };
    }
  }
  if (e.silence && e.silence.nowMs - e.silence.lastFixAtMs >= e.silence.silentAfterMs) {
    const est = e.estimate;
    // Standing: consistent with the line (its upper bound reaches it).
    if (s && s.fixes >= 2 && s.atM + Math.sqrt(s.varianceM2) >= e.lineM - o.lineToleranceM) {
      const at = e.reachedLine ?? { atMs: s.sinceMs, sigmaMs: sigmaFromGap(e.before, s.sinceMs) };
      return { finished: true, rule: 'silence', ...at, beyondInARow, beyondSumM };
    }
    // Moving through: last seen this close, going at a runner's pace.
    if (!s && est.speedMps >= o.movingMinMps && e.lineM - est.distanceM <= Math.max(o.silentMovingWithinM, 2 * est.sigmaM)) {
      const at = e.reachedLine ?? {
        atMs: est.atMs + (Math.max(0, e.lineM - est.distanceM) / est.speedMps) * 1000,
        sigmaMs: (Math.max(est.sigmaM, 1) / est.speedMps) * 1000,
      };
      return { finished: true, rule: 'silence', ...at, beyondInARow, beyondSumM };
    }
    // Stopped just past it: the estimate reached the line and is still at it or past it, with
    // the fixes since it stopped too few to make a stand (a runner who stops at the finish and
    // switches the phone off within the minute).
    if (e.reachedLine && (!s || s.fixes < 2) && est.distanceM >= e.lineM - o.lineToleranceM) {
      return { finished: true, rule: 'silence', ...e.reachedLine, beyondInARow, beyondSumM };
    }
  }
  return { finished: false, beyondInARow, beyondSumM };
}

/** Pace can drift this much over the time a crossing is interpolated across. */
const PACE_DRIFT_SHARE = 0.05;

/**
 * When the runner passed `pointM`, from the estimates either side of it. With the runner's pace
 * from the earlier one when that lands between the two (a runner slowing down past a line, or
 * sparse fixes at a steady pace), else in proportion to distance between them. Null when they do
 * not bracket the point.
 */
export function crossingFromEstimates(pointM: number, before: Estimate | null, after: Estimate): { atMs: number; sigmaMs: number } | null {
  if (after.distanceM < pointM) return null;
  if (!before || before.distanceM >= pointM) {
    // The estimate was past the point already: back from the later one at its pace, no earlier than the earlier one.
    if (after.speedMps < 0.5) return before ? { atMs: before.atMs, sigmaMs: sigmaFromGap(null, 0) } : null;
    const atMs = after.atMs - ((after.distanceM - pointM) / after.speedMps) * 1000;
    return { atMs: before ? Math.max(before.atMs, atMs) : atMs, sigmaMs: (Math.max(after.sigmaM, 1) / after.speedMps) * 1000 };
  }
  const gapMs = Math.max(0, after.atMs - before.atMs);
  let atMs = before.atMs + ((pointM - before.distanceM) / (after.distanceM - before.distanceM)) * gapMs;
  if (before.speedMps >= 0.5) {
    const byPaceMs = before.atMs + ((pointM - before.distanceM) / before.speedMps) * 1000;
    if (byPaceMs <= after.atMs) atMs = byPaceMs;
  }
  const speedMps = Math.max(before.speedMps, (after.distanceM - before.distanceM) / Math.max(gapMs / 1000, 1e-3), 0.5);
  const positionSec = Math.max(before.sigmaM, 1) / speedMps;
  const driftSec = (PACE_DRIFT_SHARE * (atMs - before.atMs)) / 1000;
  const sigmaMs = Math.min(Math.max(Math.hypot(positionSec, driftSec) * 1000, 100), Math.max(gapMs / 2, 100));
  return { atMs, sigmaMs };
}

function sigmaFromGap(before: Estimate | null, atMs: number): number {
  if (!before) return 1000;
  return Math.max(1000, Math.min((atMs - before.atMs) / 2, (Math.max(before.sigmaM, 1) / Math.max(before.speedMps, 0.5)) * 1000));
}
