// The finish line and the timing points, for one race: when the estimate reached the line, the
// finish decided on a fix (finish.ts decides, from the evidence kept here) or on silence, the
// finish time and the crossing times of every timing point passed. Steps 4 and 6 of a fix
// (race-tracker.ts runs them), and the silence checks the race's ticks make.
import { RunnerStatus, type TimingPoint } from '../../shared/protocol.ts';
import type { Course } from './course.ts';
import type { EngineOptions } from './engine-options.ts';
import { crossingFromEstimates, decideFinish, type Estimate } from './finish.ts';
import type { Progress } from './progress-filter.ts';
import { estimateOf, type RunnerState } from './runner-state.ts';
import { FIT_FROM_MS, FIT_POINT, fittedCrossing, gather, newSplitFit } from './split-fit.ts';
import { packCrossing, unpackCrossing, UNTIMED_CROSSING, withCrossing } from './timing-points.ts';

/** A runner whose pace had brought them to the line this long before a fix near it got there then. */
const ARRIVED_EARLIER_MS = 15_000;

/** A fix's error along the course (the tracker's reading of it). */
export interface FixError {
  sigmaM: number;
  varianceM2: number;
}

export class FinishLine {
  constructor(
    private readonly o: EngineOptions,
    private readonly course: Course,
    private readonly timingPoints: readonly TimingPoint[],
    /** The race's start (an organiser may move it). */
    private readonly startsAtMs: () => number,
    /** The estimate carried forward to a time, as the tracker predicts it. */
    private readonly predict: (runner: RunnerState, progress: Progress, atMs: number) => Progress,
  ) {}

  /**
   * Keeps when the estimate reached the finish line: the finish time, once the evidence says the
   * runner crossed it. Forgotten when the estimate falls clearly short again.
   */
  noteLine(runner: RunnerState, m: FixError, fixAlongM: number): void {
    const o = this.o;
    const progress = runner.progress!;
    const lineM = this.course.raceDistanceM;
    const nearM = lineM - o.finishToleranceM;
    if (progress.distanceM < nearM - o.approachZoneM) {
      // Far from the line: only the approach to keep (where a crossing will be reckoned from).
      runner.reachedLine = null;
      if (progress.speedMps >= o.movingAboveMps) runner.approach = progress;
      return;
    }
    // Standing clearly short of the line, or back well short of it: not there yet.
    const standing = this.standingOf(runner, m);
    const standingShort = standing !== null && standing.atM + 2 * Math.sqrt(standing.varianceM2) < nearM;
    // (Surely short of the line now, the arrival noted before was not the crossing.)
    const surelyShort = progress.distanceM + 2 * Math.sqrt(progress.varDD) < nearM;
    // So is a runner whose fixes cluster short of it, this one too, whatever the smoothed speed
    // says (without the phone's speed a runner standing is also a runner creeping on): the
    // crossing comes after them.
    const n = runner.stillFixes;
    const clusteredShort =
      runner.stillAtM !== null && n >= 3 && fixAlongM < nearM && progress.distanceM < nearM && runner.stillAtM + 2 * Math.sqrt(m.varianceM2 / Math.min(n, o.stillWindowFixes)) < nearM;
    // (Back well short: 8 m, or two of a fix's standard deviations with sparse noisy fixes that
    // land a few metres short of a runner standing at the line; 20 m at most, whatever a phone
    // says of its accuracy.)
    if (progress.distanceM < nearM - Math.min(Math.max(8, 2 * m.sigmaM), 20) || standingShort || surelyShort || clusteredShort) {
      runner.reachedLine = null;
    }
    const approach = runner.approach;
    if (runner.reachedLine === null && approach !== null && approach.speedMps < o.movingAboveMps && fixAlongM >= lineM) {
      // Off from a stand short of the line and over it: the fix past the line says when, better
      // than an estimate that is still getting going (it was standing).
      runner.reachedLine = crossingFromEstimates(lineM, estimateOf(approach), { distanceM: fixAlongM, speedMps: 0, sigmaM: m.sigmaM, atMs: progress.atMs });
    }
    if (runner.reachedLine === null && progress.distanceM >= nearM) {
      // From the runner's approach (their last estimate on the move before the line) at its pace.
      const at = crossingFromEstimates(Math.min(lineM, progress.distanceM), estimateOf(runner.approach), estimateOf(progress)!);
      if (at) runner.reachedLine = { atMs: at.atMs, sigmaMs: at.sigmaMs };
    }
    // Sparse fixes: the estimate now close to the line, where the runner's pace on their approach,
    // the fix before this one, had brought them long before this fix. They reached it then, and
    // have stood at it since (a phone that reports every few minutes, at a finish): not at the
    // time of this fix. (Not a runner seen stopping short of it: fixes came meanwhile.)
    if (
      runner.reachedLine === null &&
      approach !== null &&
      approach.speedMps >= o.movingAboveMps &&
      progress.atMs - approach.atMs <= 1.5 * (runner.fixIntervalMs ?? 0) &&
      progress.distanceM < nearM &&
      progress.distanceM >= lineM - Math.max(o.finish.silentMovingWithinM, 2 * Math.sqrt(progress.varDD))
    ) {
      const byPaceMs = approach.atMs + ((lineM - approach.distanceM) / approach.speedMps) * 1000;
      if (progress.atMs - byPaceMs >= ARRIVED_EARLIER_MS) {
        runner.reachedLine = { atMs: byPaceMs, sigmaMs: Math.max(1000, (progress.atMs - approach.atMs) / 4) };
        return;
      }
    }
    // The approach: the latest estimate short of the line, on the move or surely short of it (a
    // runner standing just short, who then crosses, crossed after their last stand there).
    if (progress.distanceM < nearM && (progress.speedMps >= o.movingAboveMps || surelyShort || clusteredShort)) runner.approach = progress;
    else if (
      runner.approach !== null &&
      runner.approach.speedMps < o.movingAboveMps &&
      fixAlongM < nearM &&
      Math.abs(fixAlongM - runner.approach.distanceM) <= 2 * m.sigmaM &&
      runner.reachedLine === null
    ) {
      // A runner who stood short of the line is still at their stand while their fixes are: the
      // crossing comes after the last of them, not somewhere in a stand of minutes.
      runner.approach = { ...runner.approach, atMs: progress.atMs };
    }
  }

  /** Step 4: the finish, from the fixes around the line (finish.ts). True when the runner finished. */
  finish(runner: RunnerState, placed: { alongM: number; atMs: number; found: boolean; offsetM: number; phoneStill: boolean }, before: Progress | null, m: FixError): boolean {
    const lineM = this.course.raceDistanceM;
    const progress = runner.progress!;
    const zoneM = 60 + 3 * m.sigmaM;
    const { alongM, found } = placed;
    if (progress.distanceM < lineM - zoneM && alongM < lineM - zoneM) {
      runner.beyond = null;
      return false;
    }
    const decision = decideFinish(
      {
        lineM,
        fix: { alongM, sigmaM: m.sigmaM, atMs: placed.atMs, offsetM: placed.offsetM, phoneStill: placed.phoneStill },
        beyondInARow: runner.beyond?.fixes ?? 0,
        beyondSumM: runner.beyond?.sumM ?? 0,
        estimate: estimateOf(progress)!,
        before: found ? null : estimateOf(before),
        reachedLine: runner.reachedLine,
        standing: this.standingOf(runner, m, this.o.standingBelowMps, true),
        silence: null,
        justFound: found,
      },
      this.o.finish,
    );
    runner.beyond = decision.beyondInARow > 0 ? { fixes: decision.beyondInARow, sumM: decision.beyondSumM } : null;
    if (!decision.finished) return false;
    this.markFinished(runner, decision.atMs, decision.sigmaMs, before !== null, m.varianceM2);
    return true;
  }

  /**
   * The runner standing still, when that is the better explanation of the fixes, or when the
   * estimate's own speed (the phone's, when it reports one) says so.
   */
  standingOf(runner: RunnerState, m: FixError, belowMps = this.o.standingBelowMps, doubtFew = false): { atM: number; varianceM2: number; fixes: number; sinceMs: number } | null {
    if (runner.stillAtM === null || runner.stillSinceMs === null) return null;
    const still = runner.stillLlr >= this.o.standingLlr || (runner.stillFixes >= 2 && (runner.progress?.speedMps ?? 1) < belowMps);
    if (!still) return null;
    const n = runner.stillFixes;
    const effective = Math.min(n, this.o.stillWindowFixes);
    // The spread of the fixes themselves once there are a few (phones often overstate their
    // error), never less than a quarter of the reported variance. With fewer, the reported
    // variance; and, `doubtFew`, their spread when it is more (for the stand's lower bound, where
    // doubt is caution: three fixes, one an outlier 48 m past the line, made a stand at it; not
    // for a silence, where the upper bound reaching the line would then finish more runners who
    // stood short).
    const spreadVar = runner.stillSumSqM2 * (effective / Math.max(effective - 1, 1));
    const perFixVar = n >= 4 ? Math.max(spreadVar, m.varianceM2 / 4) : doubtFew && n >= 2 ? Math.max(spreadVar, m.varianceM2) : m.varianceM2;
    return { atM: runner.stillAtM, varianceM2: perFixVar / effective, fixes: n, sinceMs: runner.stillSinceMs };
  }

  /** The runner finished at `atMs`: every timing point up to the finish timed, the finish time kept. */
  markFinished(runner: RunnerState, atMs: number, sigmaMs: number, seenBefore: boolean, varianceM2 = this.o.defaultAccuracyM ** 2): void {
    const lineM = this.course.raceDistanceM;
    runner.distanceAlongRaceM = lineM;
    runner.confirmedDistanceM = lineM;
    runner.status = RunnerStatus.finished;
    // No fix moves a finished runner: what the rules kept to decide the finish is let go (a race
    // keeps its finishers' states for hours).
    runner.beyond = runner.reachedLine = runner.approach = runner.suspect = runner.pending = null;
    // A split being refined is settled with the fixes there are.
    if (runner.lastFixAtMs !== null) this.settleSplit(runner, varianceM2, runner.lastFixAtMs);
    runner.splitFit = null;
    // Every timing point up to the finish is passed by now; any not recorded yet (a runner found
    // again right at the end) is put in proportion between the last one timed and the finish,
    // unsure by half that span; untimed for a runner seen for the first time at the finish.
    const finishIndex = this.timingPoints.length - 1;
    const recorded = runner.crossings.length;
    let fromMs = this.startsAtMs();
    let fromM = 0;
    for (let k = Math.min(recorded, finishIndex) - 1; k >= 0; k--) {
      const at = unpackCrossing(runner.crossings[k]!);
      if (at) {
        fromMs = at.atMs;
        fromM = this.timingPoints[k]!.distanceAlongRaceM;
        break;
      }
    }
    for (let k = recorded; k < finishIndex; k++) {
      const share = (this.timingPoints[k]!.distanceAlongRaceM - fromM) / Math.max(lineM - fromM, 1);
      const packed = seenBefore ? packCrossing(fromMs + (atMs - fromMs) * share, (atMs - fromMs) / 2) : UNTIMED_CROSSING;
      runner.crossings = withCrossing(runner.crossings, packed);
    }
    if (runner.crossings.length === finishIndex) runner.crossings = withCrossing(runner.crossings, packCrossing(atMs, sigmaMs));
    // The finish time is the finish crossing as kept (to the tenth of a second), so the two agree.
    runner.finishedAtMs = unpackCrossing(runner.crossings[finishIndex] ?? UNTIMED_CROSSING)?.atMs ?? Math.round(atMs);
  }

  /**
   * Step 6: the timing points the published distance has passed, each with the time the estimate
   * passed it (interpolated between the estimates either side of it).
   */
  recordCrossings(runner: RunnerState, before: Progress | null): void {
    const finishIndex = this.timingPoints.length - 1;
    if (runner.crossings.length >= finishIndex || runner.distanceAlongRaceM < this.timingPoints[runner.crossings.length]!.distanceAlongRaceM) return;
    const after = estimateOf(runner.progress)!;
    const prior = estimateOf(before);
    while (runner.crossings.length < finishIndex) {
      const point = this.timingPoints[runner.crossings.length]!;
      if (runner.distanceAlongRaceM < point.distanceAlongRaceM) break;
      // A runner first seen past a point (a phone switched on mid-race) passed it at a time
      // nothing says: not a time made up from an assumed pace.
      const at = prior ? (crossingFromEstimates(point.distanceAlongRaceM, prior, after) ?? { atMs: after.atMs, sigmaMs: 1000 }) : null;
      runner.crossings = withCrossing(runner.crossings, at ? packCrossing(at.atMs, at.sigmaMs) : UNTIMED_CROSSING);
    }
  }

  /**
   * Step 7: gathers the fixes about the next timing point, and refines the point's crossing time
   * from them once the runner is a window past it, or halfway to the next point (split-fit.ts).
   * `trusted`: a fix the estimate took as it came (not in an episode of surprising fixes, not
   * thrown aside, not a runner found again).
   */
  gatherSplit(runner: RunnerState, alongM: number, atMs: number, m: FixError, trusted: boolean): void {
    const windowMs = this.splitWindowMs(runner);
    let fit = runner.splitFit;
    // Left behind by a runner found again elsewhere, a lap count set by hand, or a silence (a fit
    // spans a window either side of its point).
    if (fit !== null && (!trusted || fit[FIT_POINT]! > runner.crossings.length || atMs - fit[FIT_FROM_MS]! > 3 * windowMs)) fit = runner.splitFit = null;
    if (fit !== null) {
      const k = fit[FIT_POINT]!;
      // Past the finish runners walk, stand or turn: a point just before it is timed from the
      // fixes up to the line (the fit is settled when the runner is finished).
      if (runner.reachedLine !== null) return;
      gather(fit, atMs, alongM - this.timingPoints[k]!.distanceAlongRaceM);
      const recorded = k < runner.crossings.length ? unpackCrossing(runner.crossings[k]!) : undefined;
      if (recorded === null) runner.splitFit = null; // passed at a time nothing says
      else if (recorded !== undefined && (atMs - recorded.atMs >= windowMs || this.halfwayToNext(runner, k))) {
        // Settled a window after the point, or sooner halfway to the next one, whose fixes then
        // begin (laps of a track run fast are shorter than two windows).
        this.settleSplit(runner, m.varianceM2, atMs);
        runner.splitFit = null;
      }
      if (runner.splitFit !== null) return;
    }
    const k = runner.crossings.length;
    const progress = runner.progress;
    if (!trusted || progress === null || k >= this.timingPoints.length - 1) return;
    const toGoM = this.timingPoints[k]!.distanceAlongRaceM - progress.distanceM;
    if (toGoM > (Math.max(progress.speedMps, 1) * windowMs) / 1000) return;
    runner.splitFit = newSplitFit(k, atMs);
    gather(runner.splitFit, atMs, alongM - this.timingPoints[k]!.distanceAlongRaceM);
  }

  /** Whether the runner's estimate is past halfway from point `k` to the next point that has a fit. */
  private halfwayToNext(runner: RunnerState, k: number): boolean {
    const next = this.timingPoints[k + 1];
    if (next === undefined || k + 1 >= this.timingPoints.length - 1 || runner.progress === null) return false;
    return runner.progress.distanceM >= (this.timingPoints[k]!.distanceAlongRaceM + next.distanceAlongRaceM) / 2;
  }

  /** Three fix intervals of a runner with sparse fixes, at least `splitWindowMs` and at most four times it. */
  private splitWindowMs(runner: RunnerState): number {
    return Math.min(Math.max(this.o.splitWindowMs, 3 * (runner.fixIntervalMs ?? 0)), 4 * this.o.splitWindowMs);
  }

  /**
   * The crossing time of the point the fit is about, from the fixes gathered (the latest at
   * `lastAtMs`), when they tell it and it stays in order with its neighbours.
   */
  private settleSplit(runner: RunnerState, varianceM2: number, lastAtMs: number): void {
    const fit = runner.splitFit;
    if (fit === null) return;
    const k = fit[FIT_POINT]!;
    if (k >= runner.crossings.length) return;
    const at = fittedCrossing(fit, varianceM2, lastAtMs);
    if (at === null) return;
    const packed = packCrossing(at.atMs, at.sigmaMs);
    if (packed === runner.crossings[k]) return;
    // Strictly between the timed crossings either side of it, as kept (to the tenth of a second).
    const keptMs = unpackCrossing(packed)!.atMs;
    for (let j = k - 1; j >= 0; j--) {
      const before = unpackCrossing(runner.crossings[j]!);
      if (before === null) continue;
      if (keptMs <= before.atMs) return;
      break;
    }
    for (let j = k + 1; j < runner.crossings.length; j++) {
      const after = unpackCrossing(runner.crossings[j]!);
      if (after === null) continue;
      if (keptMs >= after.atMs) return;
      break;
    }
    const crossings = runner.crossings.slice();
    crossings[k] = packed;
    runner.crossings = crossings;
  }

  /** The time a race's silence is measured against: see `silentFinishes`. */
  silentAfterMs(runner: RunnerState): number {
    const o = this.o;
    return Math.min(o.silentMaxMs, Math.max(o.silentMinMs, o.silentIntervals * (runner.fixIntervalMs ?? 0)));
  }

  /**
   * When the last fixes were a reflection (thrown aside, or held off the estimate), the runner was
   * carried on at their pace up to the last of them: silence after that is judged from where
   * that put them, not from the last trusted fix (a phone stopped at the line in a street canyon).
   * Past the line, the estimate as it reached it. Null when the last fixes were not a reflection.
   */
  carriedThroughReflection(runner: RunnerState, progress: Progress): Estimate | null {
    const o = this.o;
    const lastAtMs = runner.lastFixAtMs;
    const lineM = this.course.raceDistanceM;
    if (lastAtMs === null || lastAtMs <= progress.atMs || progress.distanceM >= lineM || runner.stillLlr >= o.standingLlr) return null;
    const thrown = runner.sideJumpSinceMs !== null && lastAtMs - runner.sideJumpSinceMs < o.episodeMaxMs;
    const heldOff = runner.suspect !== null && runner.suspect.verdict === 1 && runner.suspect.lastAtMs === lastAtMs;
    if (!thrown && !heldOff) return null;
    const carried = this.predict(runner, progress, lastAtMs);
    const sigmaM = Math.sqrt(Math.max(carried.varDD, 0));
    if (carried.distanceM < lineM) return { distanceM: carried.distanceM, speedMps: carried.speedMps, sigmaM, atMs: lastAtMs };
    const meanMps = (carried.distanceM - progress.distanceM) / ((lastAtMs - progress.atMs) / 1000);
    if (meanMps <= 0) return null;
    return { distanceM: lineM, speedMps: Math.max(meanMps, progress.speedMps), sigmaM, atMs: progress.atMs + ((lineM - progress.distanceM) / meanMps) * 1000 };
  }

  /** Whether silence now shows the runner finished, and when they crossed; null when it does not. */
  silenceDecision(runner: RunnerState, nowMs: number): { atMs: number; sigmaMs: number } | null {
    const progress = runner.progress;
    if (!progress || runner.lastFixAtMs === null) return null;
    const sigmaM = Math.sqrt(progress.varDD);
    const decision = decideFinish(
      {
        lineM: this.course.raceDistanceM,
        fix: null,
        beyondInARow: runner.beyond?.fixes ?? 0,
        beyondSumM: runner.beyond?.sumM ?? 0,
        estimate: this.carriedThroughReflection(runner, progress) ?? estimateOf(progress)!,
        before: null,
        reachedLine: runner.reachedLine,
        // (Slower than a runner moving through the line, with fixes that cluster: standing, for
        // a silence; a runner slowing to a stop after the line is in between for a few fixes.)
        standing: this.standingOf(runner, { sigmaM, varianceM2: Math.max(sigmaM * sigmaM, this.o.minAccuracyM ** 2) }, this.o.finish.movingMinMps),
        silence: { nowMs, silentAfterMs: this.silentAfterMs(runner), lastFixAtMs: runner.lastFixAtMs },
        justFound: false,
      },
      this.o.finish,
    );
    return decision.finished ? decision : null;
  }
}
