// Step 1 of a fix: what it says and how surely. Many phones and apps send 0 for a speed, heading
// or accuracy they do not have; what a runner's phone has shown it measures, and how far its
// fixes fall from the course line when it reports no accuracy, are kept in the runner's state.
import type { EngineOptions } from './engine-options.ts';
import type { Fix } from './race-tracker.ts';
import { SCATTER_FIXES, type RunnerState } from './runner-state.ts';
import type { SnapCandidate } from './snap.ts';

/** How a fix is read: its error, and the phone's own speed and heading when usable. */
export interface Measured {
  sigmaM: number;
  varianceM2: number;
  reportedMps: number | undefined;
  headingDeg: number | undefined;
}

/** Fixes placed before a runner's own scatter stands for an accuracy their phone does not report. */
const SCATTER_MIN_FIXES = 5;
/** A fix's distance from the line counts in the scatter up to three times the mean, and at least this. */
const SCATTER_CLIP_FLOOR_M = 5;
/** Phones state accuracy as about this many times one axis's standard deviation. */
const ACCURACY_PER_SIGMA = 1.5;
/** The mean distance of a normal error on one axis from 0, in its standard deviations (√(2/π)). */
const MEAN_ABS_PER_SIGMA = Math.sqrt(2 / Math.PI);

/**
 * The fix as the engine may read it. A phone with no speed or heading to give often sends 0 for
 * it (Android's Location reads 0 without one, and many apps send that on): its runner would be
 * held as standing still, or as running across the course, for the whole race. So a speed of 0
 * counts (with the heading that came with it) only from a phone seen to report more than 0,
 * and a heading of exactly 0 only from a phone seen to report another.
 */
export function usableFix(runner: RunnerState, fix: Fix, o: EngineOptions): Fix {
  const { speedMps, headingDeg } = fix;
  // (A speed no runner reaches is a glitch, not a phone that measures speed.)
  if (speedMps !== undefined && speedMps > 0 && speedMps <= o.maxSpeedMps) runner.phoneMeasuresSpeed = true;
  if (headingDeg !== undefined && headingDeg !== 0) runner.phoneMeasuresHeading = true;
  const dropSpeed = speedMps === 0 && !runner.phoneMeasuresSpeed;
  const dropHeading = headingDeg !== undefined && (dropSpeed || (headingDeg === 0 && !runner.phoneMeasuresHeading));
  if (!dropSpeed && !dropHeading) return fix;
  const usable: Fix = { ...fix };
  if (dropSpeed) delete usable.speedMps;
  if (dropHeading) delete usable.headingDeg;
  return usable;
}

/** Step 1: the fix's error, and what of the phone's speed and heading can be used. */
export function measureFix(fix: Fix, runner: RunnerState, o: EngineOptions): Measured {
  // (An accuracy of 0 is no accuracy: apps send 0 when the phone gives none, and no fix is exact.)
  // Without one, the runner's own fixes tell: how far from the course line they have been.
  const reportedM = fix.accuracyM !== undefined && fix.accuracyM > 0 ? fix.accuracyM : accuracyFromScatter(runner, o);
  const sigmaM = Math.min(Math.max(reportedM, o.minAccuracyM), o.maxAccuracyM);
  // A reported speed no runner can reach is a glitch of the phone: not used at all.
  const reportedMps = fix.speedMps !== undefined && fix.speedMps <= o.maxSpeedMps ? fix.speedMps : undefined;
  const headingDeg = fix.headingDeg !== undefined && (reportedMps ?? 0) >= o.headingMinSpeedMps ? fix.headingDeg : undefined;
  return { sigmaM, varianceM2: sigmaM * sigmaM, reportedMps, headingDeg };
}

/**
 * The accuracy a phone that reports none has shown: its fixes' mean distance from the course
 * line over the last fixes placed, as a phone states accuracy (about 1.5 times one axis's
 * standard deviation). The default until a few fixes have been placed. Runners keep to
 * one side of a wide road, so this errs on the side of more doubt.
 */
function accuracyFromScatter(runner: RunnerState, o: EngineOptions): number {
  return scatterSigmaM(runner) ?? o.defaultAccuracyM;
}

/** The runner's fixes' scatter about the course line, as a phone states accuracy; null until a few fixes have been placed. */
function scatterSigmaM(runner: RunnerState): number | null {
  if (runner.offsetMeanDm === null || runner.offsetFixes < SCATTER_MIN_FIXES) return null;
  return (ACCURACY_PER_SIGMA * runner.offsetMeanDm) / 10 / MEAN_ABS_PER_SIGMA;
}

/**
 * The variance of one fix's error, m², as the runner's own fixes have scattered about the course
 * line; null until a few fixes have been placed. A floor under what a phone claims: one that
 * states 3 m while its fixes scatter 8 m would otherwise make every rule that weighs a few fixes
 * against each other surer than the fixes are.
 */
export function scatterVarianceM2(runner: RunnerState): number | null {
  const sigmaM = scatterSigmaM(runner);
  return sigmaM === null ? null : sigmaM * sigmaM;
}

/**
 * Keeps the runner's fixes' scatter about the course line (what `accuracyFromScatter` reads):
 * the mean distance, each fix's clipped at three times the mean so far, so that a runner
 * stepping off the road or a reflection does not make every later fix look vaguer.
 */
export function noteOffset(runner: RunnerState, offsetM: number): void {
  const meanDm = runner.offsetMeanDm;
  // (Clipped no nearer than 5 m: a mean that starts near 0, from fixes that happened to fall on
  // the line, must still be able to grow.)
  const clipM = Math.max((3 * (meanDm ?? 0)) / 10, SCATTER_CLIP_FLOOR_M);
  const clippedDm = 10 * (meanDm === null || runner.offsetFixes < SCATTER_MIN_FIXES ? offsetM : Math.min(offsetM, clipM));
  runner.offsetFixes = Math.min(runner.offsetFixes + 1, SCATTER_FIXES);
  // (Whole decimetres: a small integer is kept in the state's own slot, a fraction in a box of its own.)
  runner.offsetMeanDm = Math.round(meanDm === null ? clippedDm : meanDm + (clippedDm - meanDm) / runner.offsetFixes);
}

/** A fix's error along the course where it was placed (magnified on the inside of a bend). */
export function alongMeasured(m: Measured, candidate: SnapCandidate): Measured {
  if (candidate.alongErrorScale === 1) return m;
  const sigmaM = m.sigmaM * candidate.alongErrorScale;
  return { ...m, sigmaM, varianceM2: sigmaM * sigmaM };
}
