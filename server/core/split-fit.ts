// A crossing time from the fixes either side of a timing point, not only the two estimates that
// bracket it. A split is first recorded as the runner's estimate passes the point (at once, so
// spectators see it); the estimate has followed a single noisy fix or two, and on a stadium track
// with 15 m of scatter and a fix every 5 s that alone is often 5-8 s off. The fixes of the 45 s
// before and after the point, fitted with a straight line over time (a runner holds their pace
// over a minute and a half), say when the runner was at the point to a second or so: the recorded
// time is then refined once. Pure: the finish line keeps the sums in the runner's state.

/**
 * The fixes gathered about one timing point, as one array of numbers (a runner on a track holds
 * one most of the time, and an array of nine numbers costs about 110 bytes where an object of
 * named fields costs 200): the point's index, the first fix's recorded time (ms since the epoch,
 * the fit's time zero), how many fixes and how many of them short of the point, then the sums of
 * t (s since the first fix), t², y (m past the point), t·y and y².
 */
export type SplitFit = number[];

export const FIT_POINT = 0;
export const FIT_FROM_MS = 1;
const FIT_FIXES = 2;
const FIT_SHORT = 3;
const SUM_T = 4;
export const FIT_LENGTH = 9;

/** A fit about point `point` whose time zero is `fromMs`, with no fix yet. */
export function newSplitFit(point: number, fromMs: number): SplitFit {
  // (Filled with fractions from the start, so the array holds unboxed doubles.)
  const fit = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  fit.fill(0);
  fit[FIT_POINT] = point;
  fit[FIT_FROM_MS] = fromMs;
  return fit;
}

export interface FittedCrossing {
  atMs: number;
  sigmaMs: number;
}

/** Fixes needed on either side of the point: a line through fewer says little more than the estimates. */
export const MIN_FIXES_EACH_SIDE = 2;

/** Slowest and fastest pace a fit may show: slower is a runner who stopped, faster a fit gone wrong. */
const MIN_FIT_MPS = 0.5;
const MAX_FIT_MPS = 12;

/** Adds a fix placed `yM` past the point (negative: short of it) at `atMs`. */
export function gather(fit: SplitFit, atMs: number, yM: number): void {
  const t = (atMs - fit[FIT_FROM_MS]!) / 1000;
  fit[SUM_T]! += t;
  fit[SUM_T + 1]! += t * t;
  fit[SUM_T + 2]! += yM;
  fit[SUM_T + 3]! += t * yM;
  fit[SUM_T + 4]! += yM * yM;
  fit[FIT_FIXES]! += 1;
  if (yM < 0) fit[FIT_SHORT]! += 1;
}

/**
 * When the line fitted to the gathered fixes reaches the point, and how surely; null when the
 * fixes do not show a runner going through it at a steady pace: too few either side, a pace no
 * runner keeps, or fixes scattered about the line more than their error allows (a stop, a turn,
 * a reflection).
 *
 * `varianceM2` is one fix's error along the course; `lastAtMs` the latest fix gathered.
 */
export function fittedCrossing(fit: SplitFit, varianceM2: number, lastAtMs: number): FittedCrossing | null {
  const n = fit[FIT_FIXES]!;
  const short = fit[FIT_SHORT]!;
  if (short < MIN_FIXES_EACH_SIDE || n - short < MIN_FIXES_EACH_SIDE) return null;
  const [sumT, sumTT, sumY, sumTY, sumYY] = fit.slice(SUM_T, SUM_T + 5) as [number, number, number, number, number];
  const meanT = sumT / n;
  const meanY = sumY / n;
  const spreadTT = sumTT - n * meanT * meanT;
  if (!(spreadTT > 1e-6)) return null;
  const spreadTY = sumTY - n * meanT * meanY;
  const slopeMps = spreadTY / spreadTT;
  if (!(slopeMps >= MIN_FIT_MPS && slopeMps <= MAX_FIT_MPS)) return null;
  // Squared residuals about the line, against what chance allows for that many fixes (the 99th
  // percentile or so of a chi-square with n − 2 degrees of freedom).
  const residualM2 = Math.max(0, sumYY - n * meanY * meanY - slopeMps * spreadTY);
  const dof = n - 2;
  if (residualM2 > (dof + 3 * Math.sqrt(2 * dof) + 2) * varianceM2) return null;
  const atSec = meanT - meanY / slopeMps;
  const spanSec = (lastAtMs - fit[FIT_FROM_MS]!) / 1000;
  if (atSec < 0 || atSec > spanSec) return null;
  // The fixes' own scatter once there are enough of them (phones often overstate their error).
  const scatterM2 = dof >= 4 ? Math.max(residualM2 / dof, varianceM2 / 4) : varianceM2;
  const sigmaSec = Math.sqrt(scatterM2 / n + ((atSec - meanT) ** 2 * scatterM2) / spreadTT) / slopeMps;
  return { atMs: fit[FIT_FROM_MS]! + atSec * 1000, sigmaMs: Math.max(100, sigmaSec * 1000) };
}
