// Fixes that surprise a tracked runner's estimate, and what they say (CoursePlacement.track asks):
// thrown far aside all at once (a reflection), another reading past a turnaround, the checkpoint
// of steady running the estimate may have left, and an episode of them (a runner who changed
// pace, or a reflection held off the estimate while the runner runs on).
import { anchorExpectation, estimateFromAnchor } from './anchor.ts';
import type { Course } from './course.ts';
import type { Placement } from './course-placement.ts';
import type { EngineOptions } from './engine-options.ts';
import { judgeEpisode } from './episode.ts';
import { scatterVarianceM2, type Measured } from './fix-reading.ts';
import type { Progress } from './progress-filter.ts';
import type { Fix } from './race-tracker.ts';
import { addToEpisode, clearSuspect, episodeOf, resetStill, type RunnerState } from './runner-state.ts';
import { offsetCost, searchCourse, type SearchOptions, type SnapCandidate } from './snap.ts';

/** A phone reporting this share of the runner's estimated pace says they run on. */
export const PHONE_PACE_SHARE = 0.6;
/** A checkpoint's pace this far from the speed of an estimate that a phone's speed steers is not the runner's. */
const ANCHOR_PACE_DENIED_MPS = 0.25;
/** A fix this many of its standard deviations behind where a runner who stopped can be is not one of theirs. */
const STOP_BEHIND_SIGMAS = 3;

export class SurprisingFixes {
  constructor(
    private readonly options: EngineOptions,
    private readonly course: Course,
    /** The search's options for a fix (CoursePlacement's, one object reused). */
    private readonly searchOptions: (m: Measured) => SearchOptions,
  ) {}

  /** How much further aside than the runner's fixes were a fix must be to have been thrown: more than their own scatter and a brisk sideways walk between two fixes can explain. */
  jumpAsideM(runner: RunnerState, m: Measured): number {
    // (Judged by how far the fixes have scattered about the course line when that is less than the
    // phone states: phones overstate their error, and a phone stating 12 m whose fixes scatter 8 m
    // let a reflection 48 m aside, 40 m past the finish, through.)
    const scatterM2 = scatterVarianceM2(runner);
    const sigmaM = scatterM2 === null ? m.sigmaM : Math.min(m.sigmaM, Math.sqrt(scatterM2));
    return Math.max(this.options.sideJumpM, 3 * sigmaM) + (this.options.walkBackMps * (runner.fixIntervalMs ?? 0)) / 1000;
  }

  /**
   * A fix thrown far to the side all at once, while the runner's fixes were close beside the
   * course, is a reflected signal (multipath in a street canyon), as likely thrown along the
   * course as across it: it is not used, and the runner is carried on at their pace, for as long
   * as the fixes stay thrown (up to the longest a reflection holds). A runner who leaves the
   * course walks off gradually, and is followed as usual.
   */
  thrownAside(runner: RunnerState, candidate: SnapCandidate, m: Measured, atMs: number): boolean {
    const o = this.options;
    const sideM = candidate.offsetM;
    if (runner.sideM === null) {
      runner.sideM = sideM;
      return false;
    }
    const thrownM = sideM - runner.sideM;
    if (runner.sideJumpSinceMs === null) {
      // (No further aside than the least a jump can be, the usual case: not thrown, and the jump's
      // own measure, which this runs for every fix, is not needed.)
      if (thrownM <= o.sideJumpM || thrownM <= this.jumpAsideM(runner, m)) {
        runner.sideM = sideM;
        return false;
      }
      runner.sideJumpSinceMs = atMs;
      return true;
    }
    if (thrownM <= this.jumpAsideM(runner, m) / 2 || atMs - runner.sideJumpSinceMs >= o.episodeMaxMs) {
      // Back beside the course; or thrown for longer than any reflection holds: where the runner is.
      runner.sideJumpSinceMs = null;
      runner.sideM = sideM;
      return false;
    }
    return true;
  }

  /**
   * Past a turnaround the estimate may lag (a reflection held it back, or took it for the
   * runner): every fix on the way back then also reads as the way out, behind the estimate, and
   * a filter that follows those readings walks the runner back down the way out for good. The
   * checkpoint of steady running (anchor.ts) says where the runner's pace has taken them: a
   * reading on the way on that fits the fix about as well, near where that pace leads and nearer
   * it than the reading behind, is where they are. A runner truly short of the turnaround has
   * the checkpoint short of it too, and keeps the reading behind.
   */
  pastTurnaround(runner: RunnerState, progress: Progress, behind: SnapCandidate, fix: Fix, m: Measured): SnapCandidate | null {
    const o = this.options;
    const expected = anchorExpectation(runner, o, fix.recordedAtMs);
    // (Not for a runner the fixes show more likely standing than running, or whose phone says they
    // are not moving: one who stops short of a turnaround, at a drink station, stands there.)
    // (Nor while fixes behind the estimate may still show a runner who stopped: a fast runner who
    // stopped 100 m short of the turnaround was put 200 m on, on the way back, before the third
    // fix at the stop could show it.)
    const mayHaveStopped = runner.suspect !== null && runner.suspect.capM !== null && fix.recordedAtMs - runner.suspect.lastAtMs <= o.episodeMaxMs;
    if (!expected || runner.stillLlr > 0 || (m.reportedMps !== undefined && m.reportedMps < o.movingAboveMps) || mayHaveStopped) return null;
    const gateM = o.anchorGateSigma * Math.sqrt(expected.expectedVarM2 + m.varianceM2);
    // (As far as the checkpoint's pace leads, which the lagging estimate's reach may fall short of;
    // within half a lap, as the same place a lap on is not another reading of a turnaround.)
    const toM = Math.min(expected.expectedM + 2 * gateM, behind.distanceAlongRaceM + this.course.lapLengthM / 2);
    if (toM <= progress.distanceM + m.sigmaM) return null;
    const options = this.searchOptions(m);
    options.projectedOnly = true;
    const onwards = searchCourse(this.course, fix, progress.distanceM + m.sigmaM, toM, { distanceAlongRaceM: expected.expectedM, sigmaM: Math.sqrt(expected.expectedVarM2 + m.varianceM2) }, options);
    if (!onwards) return null;
    const onwardsMissM = Math.abs(onwards.distanceAlongRaceM - expected.expectedM);
    const behindMissM = Math.abs(behind.distanceAlongRaceM - expected.expectedM);
    return onwardsMissM < behindMissM && offsetCost(onwards, m.varianceM2) <= offsetCost(behind, m.varianceM2) + o.onwardsWithinCost ? onwards : null;
  }

  /**
   * The estimate may itself be what went wrong (anchor.ts): fixes that agree with the checkpoint
   * of steady running, and not with the estimate, put the runner back on its path.
   */
  backOnAnchor(runner: RunnerState, candidate: SnapCandidate, fix: Fix, m: Measured, missM: number, estimate: Progress): Placement | null {
    // A phone that measures speed keeps the estimate's speed honest through a reflection (the
    // signal's Doppler shift is not moved by it): a checkpoint whose pace it denies would lead
    // fixes astray (0.4 m/s too fast over two minutes is 50 m, where a reflection throws them).
    if (runner.phoneMeasuresSpeed && Math.abs(runner.anchorMps - estimate.speedMps) > ANCHOR_PACE_DENIED_MPS) return null;
    const predicted = estimateFromAnchor(runner, this.options, fix.recordedAtMs, candidate.distanceAlongRaceM, m.varianceM2, missM, estimate);
    if (!predicted) return null;
    resetStill(runner, candidate.distanceAlongRaceM, fix.recordedAtMs, -this.options.standingLlr);
    clearSuspect(runner);
    return { candidate, predicted, found: false, measured: m };
  }

  /**
   * A fix that surprises the estimate, in an episode of them: a runner who changed pace (stopped,
   * turned back, sped up) shows it as a drift from where their estimate says, growing with time;
   * a reflected signal that holds for a minute (multipath in a street canyon) as a jump that
   * stays the same size while the runner runs on. The first is taken in at once; the second is
   * ignored while the runner is carried on at their pace, and taken as the truth only if it lasts
   * beyond any reflection.
   */
  judge(
    runner: RunnerState,
    predicted: Progress,
    candidate: SnapCandidate,
    sinceSec: number,
    missM: number,
    scatterM: number,
    capAheadM: number,
    fix: Fix,
    m: Measured,
    onCourse: boolean,
  ): Placement | null {
    const o = this.options;
    runner.anchorClean = false;
    let episode = addToEpisode(runner, fix.recordedAtMs, sinceSec, missM);
    const trusted = runner.progress!;
    // (The pace the fixes show is judged against their own error: the phone's word for it, but no
    // less than how they have scattered about the course line.)
    const fixVarianceM2 = Math.max(m.varianceM2, scatterVarianceM2(runner) ?? 0);
    const context = { varianceM2: scatterM * scatterM, speedMps: trusted.speedMps, fixVarianceM2 };
    let verdict = judgeEpisode(episodeOf(episode), context, sinceSec);
    if (verdict.kind === 'mixed') {
      // Neither explains the run: start it again from this fix.
      clearSuspect(runner);
      episode = addToEpisode(runner, fix.recordedAtMs, sinceSec, missM);
      verdict = { kind: 'unsure' };
    }
    episode.verdict = verdict.kind === 'offset' ? 1 : verdict.kind === 'pace' ? 2 : 0;
    episode.slopeMps = verdict.kind === 'offset' ? verdict.slopeMps : 0;
    if (onCourse && verdict.kind === 'offset') episode.heldOnCourse = true;
    if (verdict.kind === 'pace') {
      clearSuspect(runner);
      // A new pace since the last trusted fix: the estimate follows it, unsure of the speed.
      const speedMps = Math.min(Math.max(predicted.speedMps + verdict.slopeMps, 0), o.maxSpeedMps);
      const repaced: Progress = {
        ...predicted,
        distanceM: predicted.distanceM + verdict.missNowM,
        speedMps,
        varVV: Math.max(predicted.varVV, 0.5),
        covDV: 0,
      };
      if (onCourse) return { candidate, predicted: repaced, found: false };
      // Off the course, fixes only say the runner is not making the progress estimated (a detour,
      // a turn back): slower and no further on, never faster.
      runner.progress = {
        ...repaced,
        speedMps: Math.min(repaced.speedMps, predicted.speedMps),
        distanceM: Math.min(repaced.distanceM, predicted.distanceM),
      };
      return null;
    }
    if (onCourse && fix.recordedAtMs - episode.sinceMs >= o.episodeMaxMs) {
      // Longer than any reflection holds: where the fixes are is where the runner is.
      clearSuspect(runner);
      return { candidate, predicted, found: true };
    }
    // Meanwhile, fixes behind the estimate (not yet known to be a reflection) keep a runner who
    // may have stopped from being shown running on.
    // (A miss larger than a stop or a turn since the last trusted fix can explain is a reflection.)
    const couldBeChangeM = (trusted.speedMps + o.walkBackMps) * sinceSec + 2 * scatterM;
    // (Within the fix's own error of it, as for any fix behind the estimate: the episode's widening
    // doubt is about the estimate, not about where this fix is.)
    // (Nor a runner whose phone says they run on, at about their pace and, when it tells, along the
    // course: the phone's speed comes from the signal's Doppler shift, which a reflection that moves
    // the position does not move.)
    const paceMps = Math.max(runner.paceMps ?? 0, trusted.speedMps);
    const phoneRunsOn = m.reportedMps !== undefined && m.reportedMps >= Math.max(o.movingAboveMps, PHONE_PACE_SHARE * paceMps) && this.headingAlong(m, candidate);
    // (Nor an episode that began with a fix further behind the last trusted estimate than a runner
    // who stopped since, or turned and walked back, can be: three fixes of a reflection thrown
    // 80 m back along the course held a runner running on 30-40 m behind.)
    if (episode.fixes === 1 && missM < 0) episode.jumpedBack = this.behindAnyStop(trusted, candidate, fix, m, fixVarianceM2, sinceSec);
    episode.capM = missM < 0 && -missM <= couldBeChangeM && verdict.kind !== 'offset' && !phoneRunsOn && !episode.jumpedBack ? candidate.distanceAlongRaceM + capAheadM : null;
    return null;
  }

  /**
   * Whether a fix lies further behind the last trusted estimate than a runner who stopped since
   * (or turned and walked back) can be, by three of its standard deviations (no less than the
   * fixes have scattered about the course line, whatever the phone claims): where it projects
   * squarely on the course, which may be behind the place the search window held it at.
   */
  private behindAnyStop(trusted: Progress, candidate: SnapCandidate, fix: Fix, m: Measured, fixVarianceM2: number, sinceSec: number): boolean {
    const o = this.options;
    const limitM = trusted.distanceM - o.walkBackMps * sinceSec - STOP_BEHIND_SIGMAS * Math.sqrt(fixVarianceM2 + trusted.varDD);
    if (candidate.distanceAlongRaceM < limitM) return true;
    const options = this.searchOptions(m);
    options.projectedOnly = true;
    const square = searchCourse(this.course, fix, limitM - o.windowMarginM, candidate.distanceAlongRaceM + m.sigmaM, { distanceAlongRaceM: candidate.distanceAlongRaceM, sigmaM: m.sigmaM }, options);
    return square !== null && square.distanceAlongRaceM < limitM;
  }

  /** Whether the phone's heading, when it reports one, is along the course rather than back down it. */
  private headingAlong(m: Measured, candidate: SnapCandidate): boolean {
    if (m.headingDeg === undefined) return true;
    const bearingDeg = this.course.path.bearingAtRaceDistance(candidate.distanceAlongRaceM);
    const offDeg = Math.abs((((m.headingDeg - bearingDeg) % 360) + 540) % 360 - 180);
    return offDeg < 45;
  }
}
