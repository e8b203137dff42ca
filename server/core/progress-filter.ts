// A runner's progress along the race as a one-dimensional Kalman filter with a constant-speed
// model: distance and speed, with their uncertainty. Smoothing with the runner's own pace is what
// keeps a published position within metres of the truth when single fixes are off by 10 or 20 m.

export interface Progress {
  distanceM: number;
  speedMps: number;
  /** Covariance of (distance, speed). */
  varDD: number;
  covDV: number;
  varVV: number;
  /** Recorded time of the fix this estimate stands for. */
  atMs: number;
}

/** A fresh estimate at a measured distance, speed unknown within the plausible range. */
export function startProgress(distanceM: number, varianceM2: number, atMs: number, speedMps: number, speedSigmaMps: number): Progress {
  return { distanceM, speedMps, varDD: varianceM2, covDV: 0, varVV: speedSigmaMps * speedSigmaMps, atMs };
}

/**
 * The estimate carried forward to `atMs`. `accelerationNoise` (m²/s³) is how quickly a runner's
 * speed may wander from one fix to the next: larger follows surges and stops sooner, smaller
 * smooths noise better. Over a long gap a random walk would let the speed wander without bound;
 * a runner's pace does not, so the wander is capped at `paceDriftSigmaMps`, which keeps a runner
 * found after ten minutes on the right lap of a track.
 */
export function predictProgress(
  p: Progress,
  atMs: number,
  accelerationNoise: number,
  maxSpeedVar: number,
  paceDriftSigmaMps: number,
): Progress {
  const dt = Math.max(0, atMs - p.atMs) / 1000;
  const q = accelerationNoise;
  const drift2 = paceDriftSigmaMps * paceDriftSigmaMps;
  return {
    distanceM: p.distanceM + p.speedMps * dt,
    speedMps: p.speedMps,
    varDD: p.varDD + 2 * dt * p.covDV + dt * dt * p.varVV + Math.min((q * dt * dt * dt) / 3, drift2 * dt * dt),
    covDV: p.covDV + dt * p.varVV + Math.min((q * dt * dt) / 2, drift2 * dt),
    varVV: Math.min(p.varVV + Math.min(q * dt, drift2), maxSpeedVar),
    atMs,
  };
}

/** Folds in a measured distance along the race with the given variance. */
export function updateProgress(p: Progress, measuredM: number, varianceM2: number, maxSpeedMps: number): Progress {
  const s = p.varDD + varianceM2;
  const gainD = p.varDD / s;
  const gainV = p.covDV / s;
  const innovation = measuredM - p.distanceM;
  return {
    distanceM: p.distanceM + gainD * innovation,
    // Runners do not run backwards along the course, nor faster than humanly possible.
    speedMps: Math.min(Math.max(p.speedMps + gainV * innovation, 0), maxSpeedMps),
    varDD: (1 - gainD) * p.varDD,
    covDV: (1 - gainD) * p.covDV,
    varVV: Math.max(p.varVV - gainV * p.covDV, 1e-6),
    atMs: p.atMs,
  };
}

/**
 * Folds in a measured speed along the course (m/s) with the given variance. The speed changes
 * the speed only: where the runner is stays the fixes' business. (Through the estimate's
 * coupling of distance and speed, a phone's "0 m/s" at the finish line would otherwise pull the
 * runner back along the course, as if they had been slow all the way since the last fix, when
 * they ran to the line and stopped.) A consider-state update: distance and its variance are kept,
 * and the covariances follow the gain actually applied.
 */
export function updateSpeed(p: Progress, measuredMps: number, varianceMps2: number, maxSpeedMps: number): Progress {
  const gainV = p.varVV / (p.varVV + varianceMps2);
  const innovation = measuredMps - p.speedMps;
  return {
    distanceM: p.distanceM,
    speedMps: Math.min(Math.max(p.speedMps + gainV * innovation, 0), maxSpeedMps),
    varDD: p.varDD,
    covDV: (1 - gainV) * p.covDV,
    varVV: Math.max((1 - gainV) * p.varVV, 1e-6),
    atMs: p.atMs,
  };
}
