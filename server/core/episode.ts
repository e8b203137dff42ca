// Telling a change of pace from a reflected signal. After a fix that surprises a runner's
// estimate, the fixes that follow show either a runner going at another pace (stopped, turned
// back, slowed to a walk, sped up) or a runner going on at their pace with the fixes held off to
// one side (a reflection in a street canyon that holds for a minute). A straight line fitted to
// the episode's misses over time tells which: a slope is the runner moving away from their
// estimate (another pace); a flat line is fixes held off it (a reflection). Pure: the tracker
// keeps the sums.

export interface Episode {
  fixes: number;
  /** Sums over the episode of t (seconds since the last trusted fix), t², miss (metres), t·miss and miss². */
  sumT: number;
  sumTT: number;
  sumMiss: number;
  sumTMiss: number;
  sumMissSq: number;
}

export interface EpisodeContext {
  /** Variance of one fix's miss from the estimate (its own error, the estimate's, a pace's drift), m². */
  varianceM2: number;
  /** Variance of one fix's own error, m², when known apart (the pace the fixes show depends on it alone). */
  fixVarianceM2?: number;
  /** The estimate's speed at the last trusted fix, m/s. */
  speedMps: number;
}

export type Verdict =
  /**
   * The runner goes at another pace since the last trusted fix: `slopeMps` faster (negative:
   * slower) than estimated, and `missNowM` from the estimate at the latest fix (the fitted line's).
   */
  | { kind: 'pace'; slopeMps: number; missNowM: number }
  /** The runner runs on at their pace; the fixes are held `offsetM` off (the pace they show is estimated + `slopeMps`). */
  | { kind: 'offset'; offsetM: number; slopeMps: number }
  /** Too few fixes to tell. */
  | { kind: 'unsure' }
  /** No straight line explains them. */
  | { kind: 'mixed' };

/** Fixes this far apart in time give a slope good enough to judge from two of them. */
const SPARSE_SEC = 20;

/**
 * The verdict on an episode. A straight line is acceptable when its squared residuals stay
 * within the 99th percentile of chance for that many fixes.
 */
export function judgeEpisode(e: Episode, c: EpisodeContext, latestSec: number): Verdict {
  const n = e.fixes;
  if (n < 2) return { kind: 'unsure' };
  const meanT = e.sumT / n;
  const meanMiss = e.sumMiss / n;
  const spreadTT = e.sumTT - n * meanT * meanT;
  const constantResidual = Math.max(0, e.sumMissSq - n * meanMiss * meanMiss);
  const slopeMps = spreadTT > 1e-9 ? (e.sumTMiss - n * meanT * meanMiss) / spreadTT : 0;
  const lineResidual = Math.max(0, constantResidual - slopeMps * (e.sumTMiss - n * meanT * meanMiss));
  const limit = (dof: number) => (dof + 3 * Math.sqrt(2 * Math.max(dof, 1)) + 2) * c.varianceM2;
  const spanSec = 2 * Math.sqrt(Math.max(spreadTT, 0) / n);
  const slopeKnown = n >= 3 || spanSec >= SPARSE_SEC;
  if (!slopeKnown) return { kind: 'unsure' };
  if (lineResidual > limit(Math.max(n - 2, 1))) return { kind: 'mixed' };
  const intercept = meanMiss - slopeMps * meanT;
  const pace: Verdict = { kind: 'pace', slopeMps, missNowM: intercept + slopeMps * latestSec };
  // Whether the fixes move away from the estimate (the runner goes at another pace: stopped,
  // turned back, set off again after a stop, surged) or alongside it (held off to one side while
  // the runner runs on as estimated: a reflection). A change of pace shows as a slope; a
  // reflection as a constant miss.
  const slopeSigma = Math.sqrt(c.varianceM2 / Math.max(spreadTT, 1e-9));
  if (Math.abs(slopeMps) >= 2 * slopeSigma) return pace;
  // Alongside. Behind an estimate that may itself be a runner standing, the fixes cannot tell a
  // reflection from a stop yet: wait (meanwhile the runner is not shown running on) until they
  // show a pace, two standard deviations from standing. (The pace the fixes show is their own
  // slope: the estimate's doubt shifts every miss alike and does not blur it.)
  const shownMps = c.speedMps + slopeMps;
  const shownSigma = Math.sqrt((c.fixVarianceM2 ?? c.varianceM2) / Math.max(spreadTT, 1e-9));
  if (meanMiss < 0 && Math.abs(shownMps) / shownSigma <= 2) return { kind: 'unsure' };
  return { kind: 'offset', offsetM: meanMiss, slopeMps };
}
