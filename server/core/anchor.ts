// The checkpoint of a runner's steady running (runner-state.ts `anchorM`…): where their estimate
// was while nothing surprised it, at what pace. A reflection that came on gently, or looked like a
// stop, may be taken for the runner, and the true fixes that follow it then look like a
// reflection: fixes that agree, a few in a row, with where the checkpoint's pace leads, and not
// with the estimate, show the estimate was what went wrong. Pure: the tracker calls these.
import type { EngineOptions } from './engine-options.ts';
import type { Progress } from './progress-filter.ts';
import type { RunnerState } from './runner-state.ts';

/**
 * Counts a fix placed at `placedM` (its error variance `fixVarianceM2`, `missM` from the
 * estimate) for or against the checkpoint. When enough in a row agree with it, returns the
 * estimate to take instead: running at the checkpoint's pace since, whatever the estimate said.
 */
export function estimateFromAnchor(runner: RunnerState, o: EngineOptions, atMs: number, placedM: number, fixVarianceM2: number, missM: number, estimate: Progress): Progress | null {
  const expected = anchorExpectation(runner, o, atMs);
  if (!expected) {
    runner.anchorAgrees = 0;
    return null;
  }
  const { ageSec, expectedM, expectedVarM2 } = expected;
  const anchorMissM = placedM - expectedM;
  // (Only when the estimate has clearly left the checkpoint's path, else the two say the same;
  // and by no more than a reflection throws a fix, else it is the runner who changed pace, or
  // turned back, or is found after minutes away.)
  const departedM = Math.abs(estimate.distanceM - expectedM);
  const agrees =
    departedM > 2 * Math.sqrt(expectedVarM2 + estimate.varDD) &&
    departedM <= o.anchorMaxDepartM &&
    Math.abs(anchorMissM) <= o.anchorGateSigma * Math.sqrt(expectedVarM2 + fixVarianceM2) &&
    2 * Math.abs(anchorMissM) < Math.abs(missM);
  runner.anchorAgrees = agrees ? runner.anchorAgrees + 1 : 0;
  if (runner.anchorAgrees < o.anchorAgreeFixes) return null;
  runner.anchorAgrees = 0;
  return {
    distanceM: expectedM,
    speedMps: runner.anchorMps,
    varDD: expectedVarM2,
    covDV: o.anchorPaceSigmaMps ** 2 * ageSec,
    varVV: o.anchorPaceSigmaMps ** 2,
    atMs,
  };
}

/** Where the checkpoint's pace leads by `atMs`, and how surely; null without a checkpoint young enough to say. */
export function anchorExpectation(runner: RunnerState, o: EngineOptions, atMs: number): { ageSec: number; expectedM: number; expectedVarM2: number } | null {
  if (runner.anchorM === null || runner.anchorAtMs === null) return null;
  const ageSec = (atMs - runner.anchorAtMs) / 1000;
  if (ageSec <= 0 || ageSec * 1000 > o.anchorMaxAgeMs) return null;
  return { ageSec, expectedM: runner.anchorM + runner.anchorMps * ageSec, expectedVarM2: runner.anchorVarM2 + (o.anchorPaceSigmaMps * ageSec) ** 2 };
}

/**
 * Moves the checkpoint on to the estimate of a runner on the move, when the estimate is where
 * the checkpoint's pace leads (or the checkpoint is too old to say anything).
 */
export function noteAnchor(runner: RunnerState, p: Progress, o: EngineOptions): void {
  // (The pace is measured between checkpoints of steady running, over a minute and a half: the
  // estimate's speed at one fix sways with every stride and corner; a checkpoint set afresh takes
  // the runner's pace over the last minutes, when there is one: 0.4 m/s off over two minutes is
  // 50 m, where a reflection thrown back along the course would then agree with it.)
  let paceMps = runner.paceMps ?? p.speedMps;
  if (runner.anchorM !== null && runner.anchorAtMs !== null) {
    const ageMs = p.atMs - runner.anchorAtMs;
    if (ageMs < o.anchorEveryMs) return;
    const ageSec = ageMs / 1000;
    const sigmaM = Math.sqrt(runner.anchorVarM2 + p.varDD + (o.anchorPaceSigmaMps * ageSec) ** 2);
    const steady = runner.anchorClean && Math.abs(p.distanceM - (runner.anchorM + runner.anchorMps * ageSec)) <= 2 * sigmaM;
    if (!steady && ageMs < o.anchorMaxAgeMs) return;
    if (steady) paceMps = runner.anchorMps + Math.min(1, ageSec / 90) * ((p.distanceM - runner.anchorM) / ageSec - runner.anchorMps);
  }
  runner.anchorM = p.distanceM;
  runner.anchorMps = paceMps;
  runner.anchorVarM2 = p.varDD;
  runner.anchorAtMs = p.atMs;
  runner.anchorClean = true;
}
