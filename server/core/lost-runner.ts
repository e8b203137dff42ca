// A runner lost (unusable fixes in a row, or a silence longer than their habit) and found again
// (CoursePlacement.track asks): which reading of a fix to take for them, and when a run of fixes
// far from where they were expected is believed to be them.
import type { Course } from './course.ts';
import type { Placement } from './course-placement.ts';
import type { EngineOptions } from './engine-options.ts';
import type { Measured } from './fix-reading.ts';
import type { Progress } from './progress-filter.ts';
import type { Fix } from './race-tracker.ts';
import { clearPending, withPoint, type RunnerState } from './runner-state.ts';
import { offsetCost, searchCourse, type Expectation, type SearchOptions, type SnapCandidate } from './snap.ts';

/** The reading of a fix for a lost runner, and whether it is settled (no other reading to weigh against it). */
export interface LostReading {
  candidate: SnapCandidate | null;
  settled: boolean;
}

export class LostRunner {
  constructor(
    private readonly options: EngineOptions,
    private readonly course: Course,
    /** The search's options for a fix (CoursePlacement's, one object reused). */
    private readonly searchOptions: (m: Measured) => SearchOptions,
  ) {}

  /**
   * Which reading of the fix to take for a lost runner, given the best in the window that starts
   * `backM` behind their estimate (`fromM`).
   */
  reading(runner: RunnerState, progress: Progress, best: SnapCandidate | null, fix: Fix, m: Measured, fromM: number, backM: number, expectation: Expectation): LostReading {
    const o = this.options;
    let candidate = best;
    // Looked for back to the checkpoint of their steady running too: fixes that did not fit may
    // have carried the estimate on (a runner off a park loop's path, near the path further round,
    // was taken to be there), and the runner, back, is then found where they are, not at the same
    // place a lap on. (Only where a fix projects squarely: the window's edge there is no reading
    // of it.)
    if (runner.anchorM !== null && runner.anchorM - backM < fromM) {
      const options = this.searchOptions(m);
      options.projectedOnly = true;
      const before = searchCourse(this.course, fix, runner.anchorM - backM, fromM, expectation, options);
      if (before && (!candidate || before.cost < candidate.cost)) candidate = before;
    }
    // On a loop or track, of the same place on two laps after fixes that did not fit, the lower,
    // as for a first fix (the lowest plausible lap): the estimate those fixes carried on is what
    // put the higher one nearer. Only while the checkpoint of their steady running was set just
    // before the last trusted estimate: one left behind while outliers kept it from moving on is
    // minutes old, and runners who ran on were read a lap lower (with 10% of fixes outliers on the
    // 400 m track and a fix every 5 s, 38 runners in 80 were left a lap short). Not below that
    // checkpoint or the last trusted estimate, nor below a run of fixes already being checked as
    // the runner found afresh (each fix of a runner running on was otherwise read a lap lower than
    // the last, and the run never confirmed).
    const anchorM = runner.anchorM;
    const freshAnchor = anchorM !== null && runner.anchorAtMs !== null && progress.atMs - runner.anchorAtMs <= 2 * (runner.fixIntervalMs ?? 0) + o.anchorEveryMs;
    if (candidate && this.course.isLapped && runner.rejectedInARow > 0 && freshAnchor) {
      const lowestM = runner.pending !== null ? runner.pending.atM - o.backwardToleranceM : Math.min(progress.distanceM, anchorM) - backM;
      if (candidate.distanceAlongRaceM - this.course.lapLengthM >= lowestM) {
        return { candidate: { ...candidate, distanceAlongRaceM: candidate.distanceAlongRaceM - this.course.lapLengthM }, settled: true };
      }
    }
    if (!candidate || this.course.isLapped) return { candidate, settled: false };
    // Of two readings that fit the fix about as well, the one that goes on with a run of fixes
    // already being checked as the runner found afresh: a runner standing at a drink station
    // before a turnaround has fixes as near the way back, which an estimate run on at their pace
    // past them comes to put nearer (and the run, broken, was never confirmed). Not on a loop or
    // track, where the lowest lap decides, and a run of fixes of a runner standing off the path
    // near another part of it would hold the runner's way back there.
    const checking = runner.pending;
    if (checking === null) return { candidate, settled: false };
    const options = this.searchOptions(m);
    options.projectedOnly = true;
    const runReachM = checking.atM + ((fix.recordedAtMs - checking.atMs) / 1000) * o.maxSpeedMps + o.windowMarginM;
    const onRun = searchCourse(this.course, fix, checking.atM - o.backwardToleranceM, runReachM, null, options);
    if (onRun && Math.abs(onRun.distanceAlongRaceM - candidate.distanceAlongRaceM) > m.sigmaM && offsetCost(onRun, m.varianceM2) <= offsetCost(candidate, m.varianceM2) + o.onwardsWithinCost) {
      return { candidate: onRun, settled: true };
    }
    return { candidate, settled: false };
  }

  /**
   * A fix that puts a lost runner far from where their pace says: believed only when the fixes
   * that follow agree with it and move on along the course as a runner does (a walk across a
   * park's lawn, or a detour that brushes another part of the course, is not progress), or stay
   * where a runner who stopped would be. `chained`: the fix goes on with the run being checked.
   */
  check(runner: RunnerState, progress: Progress, predicted: Progress, candidate: SnapCandidate, fix: Fix, m: Measured, chained: boolean): Placement | null {
    const o = this.options;
    const atM = candidate.distanceAlongRaceM;
    const pending = runner.pending;
    const run = chained && pending !== null ? pending : (runner.pending = { fromM: atM, fromAtMs: fix.recordedAtMs, atM, atMs: fix.recordedAtMs, fixes: 0, sums: null });
    // The run's pace by least squares over its fixes, and how surely.
    const tSec = (fix.recordedAtMs - run.fromAtMs) / 1000;
    const dM = atM - run.fromM;
    const sums = (run.sums = withPoint(run.sums, tSec, dM));
    run.fixes += 1;
    run.atM = atM;
    run.atMs = fix.recordedAtMs;
    const n = run.fixes;
    const spreadTT = sums[1]! - (sums[0]! * sums[0]!) / n;
    const slopeMps = spreadTT > 0 ? (sums[3]! - (sums[0]! * sums[2]!) / n) / spreadTT : Infinity;
    if (n >= 4 && tSec >= o.confirmSpanSec && spreadTT > 0) {
      const slopeSigma = m.sigmaM / Math.sqrt(spreadTT);
      // (Surely moving: three standard deviations, as someone wandering off the course near
      // another part of it shows a chance slope now and then; and not a phone that says it is still.)
      const phoneStill = fix.speedMps !== undefined && fix.speedMps < o.standingBelowMps;
      if (!phoneStill && slopeMps >= o.confirmPaceMps && slopeMps - 3 * slopeSigma >= o.confirmPaceMps / 3 && slopeMps <= o.maxSpeedMps) {
        clearPending(runner);
        return { candidate, predicted, found: true };
      }
    }
    // Or a run going nowhere where the runner was last trusted: a runner who stopped, whose
    // estimate ran on at their pace past the fixes, each then refused as a jump. Left lost, such a
    // runner was found minutes later where running on would have taken them, wherever a fix there
    // fitted (the way back past a turnaround, 2 km on). (A runner running on stays within a few
    // metres of the trusted place for a few seconds only.) Or a run going nowhere further on (in
    // the window: within what the runner can have done since), for longer than any reflection
    // holds: a runner who ran on a little, then stopped.
    const nearTrustedM = Math.max(o.backwardToleranceM, 2 * m.sigmaM);
    const stayed = Math.abs(run.fromM - progress.distanceM) <= nearTrustedM && Math.abs(atM - progress.distanceM) <= nearTrustedM;
    const stoppedAhead = run.fromM >= progress.distanceM - nearTrustedM && Math.abs(atM - run.fromM) <= nearTrustedM && fix.recordedAtMs - run.fromAtMs >= o.episodeMaxMs;
    if (n >= 3 && tSec >= o.confirmSpanSec && (stayed || stoppedAhead) && Math.abs(slopeMps) < o.movingAboveMps) {
      clearPending(runner);
      return { candidate, predicted, found: true };
    }
    return null;
  }
}
