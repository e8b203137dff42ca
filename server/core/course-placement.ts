// Where a fix puts a runner on the course: steps 2, 3 and 5 of a fix. race-tracker.ts runs them,
// after reading the fix (step 1, fix-reading.ts) and with the finish line's steps 4 and 6
// (finish-line.ts) between. Place the fix (acquire a runner not placed yet, track one who is,
// look for one who was lost; a fix that does not fit is judged in surprising-fixes.ts: an
// episode of reflected fixes, a turnaround, a runner stopped), carry the runner on when no fix
// fits, update the estimate, and publish what spectators see.
import { RunnerStatus } from '../../shared/protocol.ts';
import { noteAnchor } from './anchor.ts';
import type { Course } from './course.ts';
import type { EngineOptions } from './engine-options.ts';
import { alongMeasured, noteOffset, scatterVarianceM2, type Measured } from './fix-reading.ts';
import { predictProgress, startProgress, updateProgress, updateSpeed, type Progress } from './progress-filter.ts';
import { LostRunner } from './lost-runner.ts';
import type { Fix } from './race-tracker.ts';
import {
  approachAt,
  clearPending,
  clearSuspect,
  episodeOf,
  expectedMiss,
  resetStill,
  type RunnerState,
} from './runner-state.ts';
import { searchCourse, searchLimitM, type SearchOptions, type SnapCandidate } from './snap.ts';
import { PHONE_PACE_SHARE, SurprisingFixes } from './surprising-fixes.ts';

/** A fix placed on the course, and what the runner was expected to do. */
export interface Placement {
  candidate: SnapCandidate;
  /** The estimate carried forward to this fix, when the runner was being tracked. */
  predicted: Progress | null;
  /** The runner was not placed, or lost, until this fix: it cannot confirm anything (a finish) yet. */
  found: boolean;
  /** The estimate starts afresh from this fix (found, or seen again after a long silence far from where expected). */
  reanchor?: boolean;
  /** The fix's error along the course where it was placed (magnified on the inside of a bend). */
  measured?: Measured;
}

/** Fixes this close in time (the phone's usual interval) show where a runner who says they stand still stands. */
const STILL_FIXES_WITHIN_MS = 15_000;
/**
 * How far a runner's pace may be from the estimate's before it has learnt it (the fix after the
 * first: a runner may run anywhere from 2.5 to 6 m/s, and a minute later a fix 60 m from where
 * the guess put them is not to be refused), and how far at most that takes them from the guess
 * (beyond, the gap itself widens the search). Once learnt, `episodePaceSigmaMps`.
 */
const UNKNOWN_PACE_SIGMA_MPS = 1;
const UNKNOWN_PACE_MAX_M = 60;

export class CoursePlacement {
  constructor(
    private readonly options: EngineOptions,
    private readonly course: Course,
    /** The race's start (an organiser may move it). */
    private readonly startsAtMs: () => number,
  ) {
    this.surprises = new SurprisingFixes(options, course, (m: Measured) => this.searchOptions(m));
    this.lost = new LostRunner(options, course, (m: Measured) => this.searchOptions(m));
  }

  /** A lost runner's fixes (lost-runner.ts). */
  private readonly lost: LostRunner;

  /** What the fixes that surprise the estimate say (surprising-fixes.ts). */
  private readonly surprises: SurprisingFixes;

  /** The search's options for a fix (one object reused: this runs for every fix). */
  private readonly scratchOptions: SearchOptions = { fixSigmaM: 10, maxOffsetM: 50, indexAboveSegments: 300, headingDeg: undefined, headingWeight: 0, projectedOnly: false };

  private searchOptions(m: Measured, maxOffsetM = this.options.corridorM): SearchOptions {
    const s = this.scratchOptions;
    s.fixSigmaM = m.sigmaM;
    s.maxOffsetM = maxOffsetM;
    s.indexAboveSegments = this.options.indexAboveSegments;
    s.headingDeg = m.headingDeg;
    s.headingWeight = this.options.headingWeight;
    s.earliestWithinCost = undefined;
    s.projectedOnly = false;
    return s;
  }

  /**
   * Step 2a, a runner not placed yet: anywhere they can have reached since the start. Of the
   * places that fit the fix about equally well, the earliest: on a loop or track every lap fits,
   * and a runner first seen at the start line ten minutes after the gun is on their first lap
   * until later fixes prove otherwise (an organiser can set the lap count).
   */
  acquire(runner: RunnerState, fix: Fix, m: Measured): Placement | null {
    const o = this.options;
    const elapsedSec = Math.max(0, fix.recordedAtMs - this.startsAtMs()) / 1000;
    // From the start, or from what was published before (a state restored without an estimate).
    const fromM = runner.distanceAlongRaceM - o.backwardToleranceM;
    const toM = Math.min(Math.max(elapsedSec * o.maxSpeedMps, runner.distanceAlongRaceM) + o.windowMarginM, this.course.raceDistanceM);
    const best = searchCourse(this.course, fix, fromM, toM, null, this.searchOptions(m));
    if (!best) {
      runner.offCorridorSinceMs ??= fix.recordedAtMs;
      return null;
    }
    // Within two standard deviations (squared and halved, as costs are) of the best fit.
    const options = this.searchOptions(m);
    options.earliestWithinCost = best.cost + 2;
    const earliest = searchCourse(this.course, fix, fromM, toM, null, options);
    return { candidate: earliest ?? best, predicted: null, found: true };
  }

  /**
   * Step 2b, a runner being tracked: where their estimate says they should be, within what they
   * can have reached since the last trusted fix. After unusable fixes (or a long gap) the search
   * widens to everything they can have reached at a plausible pace, up to the whole remaining
   * course, expecting them where their pace would have taken them: time without a trusted fix is
   * time the runner most likely kept running. "Off course" is far from every place they can be.
   */
  track(runner: RunnerState, progress: Progress, fix: Fix, m: Measured): Placement | null {
    const o = this.options;
    const predicted = this.predict(runner, progress, fix.recordedAtMs);
    const sinceSec = (fix.recordedAtMs - progress.atMs) / 1000;
    const sigmaM = Math.sqrt(predicted.varDD + m.varianceM2);
    // How far off a fix may be from a dead-reckoned estimate and still be the runner as estimated:
    // its own error, the estimate's, and a pace that may have drifted a little since.
    const paceDriftM = runner.paceMps === null ? Math.min(UNKNOWN_PACE_SIGMA_MPS * sinceSec, UNKNOWN_PACE_MAX_M) : o.episodePaceSigmaMps * sinceSec;
    const scatterM = Math.sqrt(m.varianceM2 + progress.varDD + paceDriftM ** 2);
    const reachM = progress.distanceM + sinceSec * o.maxSpeedMps + o.windowMarginM;
    const silentMs = fix.recordedAtMs - progress.atMs;
    const lostAfterMs = Math.min(o.lostAfterMaxMs, Math.max(o.lostAfterMs, o.lostAfterIntervals * (runner.fixIntervalMs ?? 0)));
    const lost = runner.rejectedInARow >= o.lostAfterRejections || silentMs >= lostAfterMs;
    // Far enough ahead of the prediction to hold any fix the runner can have sent.
    const spreadM = o.outlierGateSigma * sigmaM + o.windowSlackM;
    // Behind, back to the last trusted estimate and the fix's own noise behind it, whatever the
    // prediction says: the fixes of a runner who stopped since fall further behind the prediction
    // with every fix, and a window that ran on with it would read them at its edge, a miss that
    // stays the same size, as a reflection of a runner running on (who was then carried on
    // hundreds of metres). (Two of the fix's standard deviations: with a stadium's 15 m of
    // scatter, 30 m read a runner who stopped at the window's edge, and the estimate crept on.)
    const backM = Math.max(o.backwardToleranceM, o.backwardToleranceSigmas * m.sigmaM);
    const fromM = progress.distanceM - backM;
    // Past the finish line the runner is expected no further on than a walk down the chute
    // (`predict`), but may as well have run on (round the lap, down the run-out): anywhere between
    // the two is no surprise. (With a fix every 30 s, a runner who ran on round the track was
    // first seen 160 m past the line, taken for a reflection, and never finished.)
    const runOnM = predicted.distanceM >= this.course.raceDistanceM ? Math.max(predicted.distanceM, progress.distanceM + predicted.speedMps * sinceSec) : predicted.distanceM;
    // A runner who stood still may have set off since: as far as their pace takes them (with fixes
    // a minute apart, one who set off from the start line is 200 m on at the next fix, where a
    // window running on with a standing estimate does not reach; found a fix later, a lap lower).
    const stood = runner.stillLlr >= o.standingLlr || progress.speedMps < o.movingAboveMps;
    const paceMps = runner.paceMps ?? m.reportedMps ?? 0;
    const offAgainM = stood ? progress.distanceM + paceMps * sinceSec : -Infinity;
    const toM = lost ? reachM : Math.min(reachM, Math.max(runOnM, offAgainM) + spreadM);
    const expectSigmaM = lost ? Math.max(o.reacquireSigmaM, sigmaM) : sigmaM;
    const farM = o.outlierGateSigma * expectSigmaM;
    // While fixes behind the estimate may show a runner who stopped (an episode not judged yet),
    // the runner is expected no further on than they show: a fix near a turnaround then reads as
    // the way out where they stand, not as the way back where running on would have taken them.
    // (Not a runner lost, after a silence or unusable fixes: that episode's fixes are old news.)
    const mayHaveStoppedAtM = lost ? null : (runner.suspect?.capM ?? null);
    const expectation = { distanceAlongRaceM: mayHaveStoppedAtM === null ? predicted.distanceM : Math.min(predicted.distanceM, mayHaveStoppedAtM), sigmaM: expectSigmaM };
    let candidate = searchCourse(this.course, fix, fromM, toM, expectation, this.searchOptions(m));
    // A runner lost: which reading of the fix (lost-runner.ts).
    let settled = false;
    if (lost) ({ candidate, settled } = this.lost.reading(runner, progress, candidate, fix, m, fromM, backM, expectation));
    // A fix that would take the runner back along the course, when another reading of it that
    // fits about as well keeps them going on: at the foot of a turnaround, or where legs run
    // side by side, the fixes of a runner on the way back are as near the way out. Runners turn
    // back rarely, and never at a turnaround's mirror image of their pace.
    if (candidate && !settled && candidate.distanceAlongRaceM < progress.distanceM - m.sigmaM && toM > progress.distanceM) {
      const options = this.searchOptions(m);
      options.projectedOnly = true;
      const onwards = searchCourse(this.course, fix, progress.distanceM, toM, expectation, options);
      // (Another place: not the window's edge, where a fix behind it is only held.)
      if (onwards && onwards.distanceAlongRaceM > progress.distanceM + m.sigmaM && onwards.cost <= candidate.cost + o.onwardsWithinCost) candidate = onwards;
      else if (candidate.distanceAlongRaceM < progress.distanceM - m.sigmaM) candidate = this.surprises.pastTurnaround(runner, progress, candidate, fix, m) ?? candidate;
    }
    if (!candidate) {
      runner.offCorridorSinceMs ??= fix.recordedAtMs;
      // Off the corridor. Where it projects on the course still says something: a runner off on a
      // detour, or walking back, projects to where they left; a reflection of a runner running
      // on moves on with them.
      const nearM = o.suspectSigma * scatterM + o.backwardToleranceM;
      const projection = searchCourse(
        this.course,
        fix,
        // (From the last trusted estimate, as the search on the corridor: a runner who left the
        // course projects to where they left it, which an edge moving on with the prediction
        // would not reach, and would read as a reflection moving on with them.)
        progress.distanceM - backM,
        Math.min(reachM, predicted.distanceM + nearM),
        expectation,
        this.searchOptions(m, o.projectWithinM),
      );
      if (projection) {
        // (A fix thrown far aside all at once projects anywhere: the estimate's doubt, not its own error, bounds it.)
        const thrown = runner.sideM !== null && projection.offsetM - runner.sideM > this.surprises.jumpAsideM(runner, m);
        const capAheadM = thrown ? o.publishAheadOfFixSigmas * scatterM : o.publishAheadOfSlowerFixSigmas * alongMeasured(m, projection).sigmaM;
        this.surprises.judge(runner, predicted, projection, sinceSec, projection.distanceAlongRaceM - predicted.distanceM, scatterM, capAheadM, fix, m, false);
      }
      return null;
    }
    if (this.surprises.thrownAside(runner, candidate, m, fix.recordedAtMs)) return null;
    const missM = candidate.distanceAlongRaceM > runOnM ? candidate.distanceAlongRaceM - runOnM : Math.min(0, candidate.distanceAlongRaceM - predicted.distanceM);
    // Back on the course after fixes off it: what those fixes suggested is over. Unless fixes on
    // the course before them were a reflection held off the estimate, further than a fix strays,
    // and this fix is held as far off as they were (`heldAsFar`): a reflection thrown 60 m sends
    // some fixes off the corridor and some onto it, and the first back on it, taken as the runner
    // found afresh, put them 73-87 m ahead (multipath seeds 106 and 119).
    const along = alongMeasured(m, candidate);
    const alongScatterM = Math.sqrt(along.varianceM2 + progress.varDD + paceDriftM ** 2);
    const held = runner.suspect !== null && runner.suspect.verdict === 1 && runner.suspect.heldOnCourse ? expectedMiss(episodeOf(runner.suspect), sinceSec) : 0;
    if (runner.offCorridorSinceMs !== null && !(Math.abs(held) > o.episodeEndSigma * along.sigmaM && heldAsFar(missM, held))) clearSuspect(runner);
    runner.offCorridorSinceMs = null;
    const episode = runner.suspect;
    const inEpisode = episode !== null;
    // Where the estimate says: taken as usual. In an episode, only a fix back within its own error
    // of the estimate, and nearer it than to where the episode's fixes were heading, ends it.
    const episodeMissM = episode !== null ? expectedMiss(episodeOf(episode), sinceSec) : 0;
    const backInLine = !inEpisode || (Math.abs(missM) <= o.episodeEndSigma * along.sigmaM && Math.abs(missM) < Math.abs(missM - episodeMissM));
    // (After unusable fixes the estimate is stale: the runner is found afresh. After a silence it
    // is only uncertain, and carries on with the fix.)
    // (Not while fixes are thrown aside: those refused were the same reflection as this one.)
    const stale = runner.rejectedInARow >= o.lostAfterRejections && fix.recordedAtMs - progress.atMs >= o.lostAfterMs && runner.sideJumpSinceMs === null;
    if (Math.abs(missM) <= o.suspectSigma * alongScatterM && backInLine) {
      clearPending(runner);
      runner.anchorAgrees = 0;
      return { candidate, predicted, found: !inEpisode && stale, measured: along };
    }
    const restored = this.surprises.backOnAnchor(runner, candidate, fix, along, missM, predicted);
    if (restored) {
      clearPending(runner);
      return restored;
    }
    // Ahead of a runner who stood still, no further on than their pace since the last fix takes
    // them: off again (with fixes a minute apart, a runner who set off from a stop is 150 m on
    // at the next fix; refused as a jump, they were lost, and found only four fixes on, 800 m
    // behind by then). Not when the phone says they still stand, nor near the finish line (the
    // approach zone), where one outlier ahead of a runner standing 10 m short of the line, taken
    // at once, finished them: a runner setting off there is across it a fix or two later.
    const phoneStands = m.reportedMps !== undefined && m.reportedMps < o.movingAboveMps;
    // (Before any pace is known, at the start, the phone's speed says how far they can have gone
    // (`paceMps` above): a runner placed 30 m behind the start line by their first fix at the gun
    // was otherwise refused for a minute, and then found on the lap before the start, a lap
    // behind all race.)
    const nearLine = candidate.distanceAlongRaceM >= this.course.raceDistanceM - o.approachZoneM;
    if (!lost && !inEpisode && stood && !phoneStands && !nearLine && paceMps >= o.movingAboveMps && missM > 0 && missM <= paceMps * sinceSec + o.suspectSigma * alongScatterM) {
      clearPending(runner);
      return { candidate, predicted, found: true, measured: along };
    }
    // Found again after a silence (a tunnel, a phone in a bag), or back on the course after fixes
    // off it: where their pace points, within what they can have done since.
    const afterSilence = !inEpisode && runner.rejectedInARow === 0 && lost;
    const atM = candidate.distanceAlongRaceM;
    const pending = runner.pending;
    const chained =
      pending !== null &&
      atM - pending.atM >= -o.backwardToleranceM &&
      atM - pending.atM <= ((fix.recordedAtMs - pending.atMs) / 1000) * o.maxSpeedMps + o.windowMarginM;
    // (A run of fixes already being checked as the runner found afresh stays in that check when
    // the estimate's widening doubt comes to cover it: it is not a reflection beside the estimate.)
    if (Math.abs(missM) <= farM && !(lost && chained && !inEpisode)) {
      if (afterSilence) {
        clearPending(runner);
        return { candidate, predicted, found: false, reanchor: true, measured: along };
      }
      if (stale && !inEpisode && Math.abs(missM) <= o.reacquireGateSigma * expectSigmaM) {
        clearPending(runner);
        return { candidate, predicted, found: true, measured: along };
      }
      const judged = this.surprises.judge(runner, predicted, candidate, sinceSec, missM, alongScatterM, o.publishAheadOfSlowerFixSigmas * along.sigmaM, fix, along, true);
      return judged && { ...judged, measured: along };
    }
    // Behind by more than the gate, in an episode of fixes behind that a stop or a turn since the
    // last trusted fix explains: the runner stopping, seen on (the miss grows as the estimate runs
    // on). Or the first such fix, when the runner's pace could have taken them further than the
    // gate since (fixes half a minute apart: a runner who stopped is 100 m behind the estimate at
    // once; refused as a jump, they were lost, and found again where running on would have taken
    // them, on the way back past a turnaround, 2 km ahead).
    // (The gate as wide as the fixes' own scatter about the course line makes it, whatever the
    // phone claims: one that states 3 m would have every fix of a runner slowing down start one.)
    const scatterGateM = o.suspectSigma * Math.sqrt(alongScatterM * alongScatterM + Math.max(0, (scatterVarianceM2(runner) ?? 0) - along.varianceM2));
    const stopBeyondGate = progress.speedMps * sinceSec > scatterGateM;
    if (!lost && (inEpisode || stopBeyondGate) && missM < 0 && (!inEpisode || episodeMissM < 0) && -missM <= (progress.speedMps + o.walkBackMps) * sinceSec + 2 * alongScatterM) {
      const judged = this.surprises.judge(runner, predicted, candidate, sinceSec, missM, alongScatterM, o.publishAheadOfSlowerFixSigmas * along.sigmaM, fix, along, true);
      return judged && { ...judged, measured: along };
    }
    if (!lost) return null; // a reflected or jumped fix
    return this.lost.check(runner, progress, predicted, candidate, fix, m, chained);
  }

  /**
   * The estimate carried forward to a fix. Over a long gap the runner's pace over the last
   * minutes says more than their speed at the last fix (which a stride, a corner or a drink
   * station sways).
   */
  predict(runner: RunnerState, progress: Progress, atMs: number): Progress {
    const o = this.options;
    const gapSec = (atMs - progress.atMs) / 1000;
    let from = progress;
    // (Not for a runner whose estimate had slowed to a walk or a stop: they may be standing still.)
    if (gapSec > 30 && runner.paceMps !== null && progress.speedMps >= 1 && runner.stillLlr < o.standingLlr) {
      const w = Math.exp(-(gapSec - 30) / 60);
      from = { ...progress, speedMps: w * progress.speedMps + (1 - w) * runner.paceMps };
    }
    // A phone that reports once a minute or less often measures a runner's pace over minutes,
    // which holds steadier than their speed over the seconds between a dense phone's fixes (a
    // stride, a corner, a stop). (By its usual interval, not this gap: a dense phone's fixes
    // after a tunnel or a stop are judged as before.)
    const intervalMs = runner.fixIntervalMs ?? 0;
    const spanMs = o.paceDriftSparseIntervalMs - o.paceDriftDenseIntervalMs;
    // (Options that leave no span between the two make a step at the sparse interval.)
    const sparseShare = spanMs > 0 ? Math.min(1, Math.max(0, (intervalMs - o.paceDriftDenseIntervalMs) / spanMs)) : intervalMs >= o.paceDriftSparseIntervalMs ? 1 : 0;
    const driftMps = o.paceDriftSigmaMps + sparseShare * (o.sparsePaceDriftSigmaMps - o.paceDriftSigmaMps);
    const predicted = predictProgress(from, atMs, o.accelerationNoise, (o.maxSpeedMps / 2) ** 2, driftMps);
    // Nobody runs on past the finish at their pace: they slow down at the line and walk.
    const limitM = Math.min(searchLimitM(this.course), this.course.raceDistanceM + o.pastFinishExpectedM);
    return predicted.distanceM > limitM ? { ...predicted, distanceM: limitM } : predicted;
  }

  /**
   * A fix that could not be placed. For a while the runner is carried on at the pace their
   * estimate holds (a reflected signal in a street canyon does not stop a runner; a runner who
   * stopped or turned back has an estimate that stopped too), with the phone's own speed when it
   * reports one; never past the finish. Off the corridor for long enough: off course.
   */
  carryOn(runner: RunnerState, fix: Fix): void {
    const o = this.options;
    // An episode's fixes are on the course: the runner is not being lost.
    const episode = runner.suspect !== null && runner.suspect.lastAtMs === fix.recordedAtMs ? runner.suspect : null;
    const inEpisode = episode !== null;
    runner.anchorClean = false;
    // A fix on the course in an episode is not the runner being lost, nor off the course.
    if (!inEpisode || runner.offCorridorSinceMs !== null) runner.rejectedInARow += 1;
    else if (runner.status === RunnerStatus.offCourse) runner.status = RunnerStatus.onCourse;
    const progress = runner.progress;
    if (!progress) return; // never placed: nothing to show, nothing to carry on
    // Fixes held to one side of the course whose projection moves on with the runner's pace are a
    // reflection, or a runner on the pavement across a wide road: not a runner who left the course,
    // for as long as a reflection can hold.
    // So are fixes thrown aside all at once (`thrownAside`), on the corridor or off it.
    const heldAside =
      (episode !== null &&
        episode.verdict === 1 &&
        (runner.progress?.speedMps ?? 0) >= o.movingAboveMps &&
        fix.recordedAtMs - episode.sinceMs < o.episodeMaxMs) ||
      (runner.sideJumpSinceMs !== null && fix.recordedAtMs - runner.sideJumpSinceMs < o.episodeMaxMs);
    if (runner.offCorridorSinceMs !== null && fix.recordedAtMs - runner.offCorridorSinceMs >= o.offCourseAfterMs && !heldAside) {
      runner.status = RunnerStatus.offCourse;
    }
    // Off the course for a while: wherever they are, they are not making progress along it.
    if (runner.status === RunnerStatus.offCourse) return;
    const sinceMs = fix.recordedAtMs - progress.atMs;
    if (sinceMs > o.deadReckonMaxMs || runner.stillLlr >= o.standingLlr) return;
    let speedMps = progress.speedMps;
    // The phone's speed, when it says the runner stopped or slowed down well below their pace: one
    // reading's noise (half a metre a second) carried over the whole time since the last trusted
    // fix would otherwise hold the runner back by tens of metres.
    const paceMps = Math.max(runner.paceMps ?? 0, speedMps);
    if (fix.speedMps !== undefined && fix.speedMps <= o.maxSpeedMps) speedMps = fix.speedMps < o.standingBelowMps ? 0 : fix.speedMps < PHONE_PACE_SHARE * paceMps ? Math.min(speedMps, fix.speedMps) : speedMps;
    // A held reflection that drifts a little says the runner is a little faster or slower than
    // estimated; by no more than a pace drifts (a drift that fits a held offset only because a few
    // fixes cannot tell is not a runner sprinting off). Not when the phone measures the speed: a
    // reflection's offset is fixed on the ground, so where the course turns its share along the
    // course changes and the fixes drift with no change of pace, which the phone's speed (from
    // the signal's Doppler shift, which a reflection does not move) already tells.
    const phoneSpeedNow = runner.phoneMeasuresSpeed && fix.speedMps !== undefined && fix.speedMps <= o.maxSpeedMps;
    if (episode !== null && episode.verdict === 1 && !phoneSpeedNow) {
      speedMps = Math.max(0, speedMps + Math.min(Math.max(episode.slopeMps, -o.paceDriftSigmaMps), o.paceDriftSigmaMps));
    }
    let reckonedM = progress.distanceM + (speedMps * sinceMs) / 1000;
    // Fixes behind the estimate, not yet known to be a reflection: a runner who may have stopped
    // is not shown running on. (This fix's episode; or the last one, while it is recent, when
    // this fix went to a run being checked as the runner found afresh, no further on than it: a
    // fix at the stop says no less for the episode's fixes having counted as a silence. With a
    // fix every 15 s, a runner who stopped was shown running on 288 m past the stop.)
    const last = runner.suspect;
    const atStop = last !== null && runner.pending !== null && runner.pending.atMs === fix.recordedAtMs && last.capM !== null && runner.pending.atM <= last.capM;
    const capM = episode !== null ? episode.capM : atStop && fix.recordedAtMs - last.lastAtMs <= o.episodeMaxMs ? last.capM : null;
    if (capM !== null) reckonedM = Math.min(reckonedM, capM);
    const limitM = this.course.raceDistanceM - o.finishToleranceM - 1; // never finish by reckoning
    runner.distanceAlongRaceM = Math.max(runner.distanceAlongRaceM, Math.min(reckonedM, limitM));
  }

  /**
   * Step 3: the estimate takes the fix in. Beside running on, the fixes may say the runner
   * stands still: both explanations are weighed on every fix, and when standing wins the estimate
   * stops at once (a filter of speed alone takes tens of seconds to slow down, and shows a runner
   * who stopped as running on); when running wins again it picks up the pace held before.
   */
  update(runner: RunnerState, placement: Placement, fix: Fix, m: Measured): void {
    const o = this.options;
    noteOffset(runner, placement.candidate.offsetM);
    const maxSpeedVar = (o.maxSpeedMps / 2) ** 2;
    const z = placement.candidate.distanceAlongRaceM;
    const predicted = placement.predicted;
    runner.rejectedInARow = 0;
    runner.offCorridorSinceMs = null;
    clearSuspect(runner);
    if (!predicted || placement.found || placement.reanchor) {
      let speedMps = m.reportedMps ?? (predicted ? Math.max(predicted.speedMps, runner.paceMps ?? 0) : o.typicalSpeedMps);
      // Found again where their pace pointed after a silence (or fixes minutes apart): the pace
      // they kept since the last trusted fix is the best measure of their speed there is.
      const last = runner.progress;
      if (placement.reanchor && m.reportedMps === undefined && last) {
        const keptMps = (z - last.distanceM) / Math.max(1, (fix.recordedAtMs - last.atMs) / 1000);
        if (keptMps >= o.movingAboveMps && keptMps <= o.maxSpeedMps) {
          speedMps = keptMps;
          runner.paceMps = runner.paceMps === null ? keptMps : 0.5 * (runner.paceMps + keptMps);
        }
      }
      // Found again, after fixes that did not fit, about where they were when last trusted: they
      // have not kept their pace, whatever it was (a runner who stopped, fixes half a minute
      // apart, whose estimate ran on past the fixes; carried on at their pace again, such a
      // runner standing 10 m short of the finish was found, and lost, and found, and finished by
      // the silence after).
      if (placement.found && !placement.reanchor && m.reportedMps === undefined && last) {
        const keptMps = (z - last.distanceM) / Math.max(1, (fix.recordedAtMs - last.atMs) / 1000);
        if (keptMps < o.movingAboveMps) speedMps = Math.max(0, keptMps);
      }
      runner.progress = startProgress(z, m.varianceM2, fix.recordedAtMs, speedMps, o.typicalSpeedMps);
      resetStill(runner, z, fix.recordedAtMs, -o.standingLlr);
      runner.progress = this.withReportedSpeed(runner.progress, fix);
      runner.status = RunnerStatus.onCourse;
      runner.anchorClean = false;
      return;
    }
    const innovation = z - predicted.distanceM;
    const innovationVar = predicted.varDD + m.varianceM2;
    // A surprise of more than two standard deviations suggests the runner changed pace (a
    // stop, a sprint): let the speed estimate move faster than the model alone would.
    // So does a second fix in a row more than one standard deviation off on the same side.
    const innovationZ = innovation / Math.sqrt(innovationVar);
    const trend = o.trendAdapts && Math.abs(innovationZ) > 1 && Math.abs(runner.lastInnovationZ) > 1 && Math.sign(innovationZ) === Math.sign(runner.lastInnovationZ);
    runner.lastInnovationZ = innovationZ;
    const surprised = innovation * innovation > 4 * innovationVar || trend;
    const adapted = surprised ? { ...predicted, covDV: predicted.covDV * 2, varVV: Math.min(predicted.varVV * 4, maxSpeedVar) } : predicted;
    let progress = updateProgress(adapted, z, m.varianceM2, o.maxSpeedMps);

    // Standing still, against running on: the log-likelihood of this fix under each.
    const wasStanding = runner.stillLlr >= o.standingLlr;
    if (runner.stillAtM !== null) {
      const n = runner.stillFixes;
      const stillVar = m.varianceM2 * (1 + 1 / n);
      const stillMiss = z - runner.stillAtM;
      // log L(still) - log L(running), for Gaussian misses: one logarithm, of the variances' ratio.
      const logRatio = -0.5 * ((stillMiss * stillMiss) / stillVar - (innovation * innovation) / innovationVar + Math.log(stillVar / innovationVar));
      runner.stillLlr = Math.min(8, Math.max(-8, 0.8 * runner.stillLlr + logRatio));
      // The fixes since the runner stopped: begun afresh while the estimate has them moving, or
      // when a fix is clearly elsewhere.
      if (stillMiss * stillMiss > 9 * stillVar || predicted.speedMps >= o.movingAboveMps) {
        // A runner who stood short of the finish line and moved on crossed it after their stand.
        const stoodShort = n >= 3 && runner.stillAtM < this.course.raceDistanceM - o.finishToleranceM;
        if (stoodShort && runner.progress && (runner.approach === null || runner.stillSinceMs === null || runner.approach.atMs < runner.stillSinceMs)) {
          runner.approach = approachAt({ distanceM: runner.stillAtM, speedMps: 0, sigmaM: Math.sqrt(m.varianceM2 / Math.min(n, o.stillWindowFixes)), atMs: runner.progress.atMs });
          runner.reachedLine = null;
        }
        resetStill(runner, z, fix.recordedAtMs, runner.stillLlr);
      } else {
        // A running mean over the last `stillWindowFixes` or so (a runner who stands, then steps
        // on a few metres and stands again, is where they stand now).
        runner.stillFixes = n + 1;
        const weight = 1 / Math.min(n + 1, o.stillWindowFixes);
        const newMean = runner.stillAtM + stillMiss * weight;
        runner.stillSumSqM2 = (1 - weight) * (runner.stillSumSqM2 + weight * stillMiss * stillMiss);
        runner.stillAtM = newMean;
      }
    } else {
      resetStill(runner, z, fix.recordedAtMs, runner.stillLlr);
    }
    const standing = runner.stillLlr >= o.standingLlr;
    if (standing && runner.stillAtM !== null) {
      // Stopped: the estimate is where the fixes since the stop are, going nowhere.
      if (!wasStanding && progress.speedMps > 1) runner.paceMps = runner.paceMps ?? progress.speedMps;
      progress = { ...progress, distanceM: runner.stillAtM, speedMps: 0, varDD: m.varianceM2 / runner.stillFixes, covDV: 0, varVV: Math.min(progress.varVV, 0.25) };
    } else if (wasStanding && runner.stillLlr <= -o.standingLlr) {
      // Off again: at the pace held before the stop, unsure of it.
      progress = { ...progress, speedMps: Math.max(progress.speedMps, runner.paceMps ?? o.typicalSpeedMps), varVV: maxSpeedVar / 4, covDV: 0 };
    }
    progress = this.withReportedSpeed(progress, fix);
    // The pace over the last few minutes, from the estimate while running.
    if (!standing && progress.speedMps > 0.5) {
      const dtSec = (fix.recordedAtMs - (runner.progress?.atMs ?? fix.recordedAtMs)) / 1000;
      // (Early in the race, the mean since the start: the first estimates' speed is a guess, and a
      // pace that took five minutes to forget it would put a runner found after a gap on a track
      // a lap behind.)
      const sinceStartSec = (fix.recordedAtMs - this.startsAtMs()) / 1000;
      const weight = Math.min(0.3, Math.max(0, dtSec) / Math.min(300, Math.max(sinceStartSec, dtSec, 1)));
      runner.paceMps = runner.paceMps === null ? progress.speedMps : runner.paceMps + weight * (progress.speedMps - runner.paceMps);
    }
    runner.progress = progress;
    runner.status = RunnerStatus.onCourse;
    if (surprised || standing) runner.anchorClean = false;
    if (!standing && progress.speedMps >= o.movingAboveMps) noteAnchor(runner, progress, o);
  }

  /** Folds in the phone's speed, keeping only the part along the course. */
  private withReportedSpeed(progress: Progress, fix: Fix): Progress {
    if (fix.speedMps === undefined || fix.speedMps > this.options.maxSpeedMps) return progress;
    // A phone standing still reports a small speed in a random direction, never a negative one:
    // below a slow walk it means standing, or the estimate would creep forward.
    let alongMps = fix.speedMps < this.options.standingBelowMps ? 0 : fix.speedMps;
    if (fix.headingDeg !== undefined) {
      // A runner walking off to the side makes no progress, however fast they walk.
      const courseBearingDeg = this.course.path.bearingAtRaceDistance(Math.min(progress.distanceM, this.course.raceDistanceM));
      // Headings are noisy by several degrees: up to 20 degrees off counts as straight along,
      // so that noise does not read as slowing down.
      const cosAngle = Math.cos(((fix.headingDeg - courseBearingDeg) * Math.PI) / 180);
      alongMps *= Math.min(1, Math.max(0, cosAngle / Math.cos((20 * Math.PI) / 180)));
    }
    return updateSpeed(progress, alongMps, this.options.reportedSpeedSigmaMps ** 2, this.options.maxSpeedMps);
  }

  /**
   * Step 5: what spectators see. The filtered estimate, but never far ahead of what the latest
   * fix shows (a runner who stops is not shown running on), never less than what was shown
   * before, and short of the line until the finish is decided.
   */
  publish(runner: RunnerState, candidate: SnapCandidate, m: Measured): void {
    const o = this.options;
    const limitM = this.course.raceDistanceM - o.finishToleranceM - 0.1;
    // A fix behind the estimate may be a runner slowing down: then not even the fix's error ahead of it.
    const behind = runner.progress!.distanceM > candidate.distanceAlongRaceM;
    const aheadOfFixM = (behind ? o.publishAheadOfSlowerFixSigmas : o.publishAheadOfFixSigmas) * m.sigmaM;
    let capM = candidate.distanceAlongRaceM + aheadOfFixM;
    // While the fixes may show a runner who has stopped (and the phone, if it reports a speed,
    // does not say they are moving), one fix a few metres further on is not progress: no further
    // than the last two fixes' mean and its error (a standing runner is not shown running on by
    // the noise of one fix).
    const phoneMoving = m.reportedMps !== undefined && m.reportedMps >= o.movingAboveMps;
    if (!phoneMoving && runner.stillLlr > -o.standingLlr && runner.lastPlacedM !== null) {
      capM = Math.min(capM, (candidate.distanceAlongRaceM + runner.lastPlacedM) / 2 + aheadOfFixM / Math.SQRT2);
    }
    // A phone that says the runner stands still now, with fixes close in time: no further than the
    // last two fixes' mean itself (the estimate's momentum would carry a runner who just stopped
    // on past where they stand).
    const phoneStill = m.reportedMps !== undefined && m.reportedMps < o.standingBelowMps;
    if (phoneStill && runner.lastPlacedM !== null && (runner.fixIntervalMs ?? Infinity) <= STILL_FIXES_WITHIN_MS) {
      capM = Math.min(capM, (candidate.distanceAlongRaceM + runner.lastPlacedM) / 2);
    }
    runner.lastPlacedM = candidate.distanceAlongRaceM;
    const estimateM = Math.min(Math.max(runner.progress!.distanceM, 0), capM, limitM);
    runner.distanceAlongRaceM = Math.max(runner.distanceAlongRaceM, estimateM);
    runner.confirmedDistanceM = Math.max(runner.confirmedDistanceM, estimateM);
  }
}

/** A miss on the same side as a held reflection's, less than half as far from it as from the estimate. */
function heldAsFar(missM: number, heldMissM: number): boolean {
  return Math.sign(missM) === Math.sign(heldMissM) && Math.abs(missM - heldMissM) < Math.abs(missM) / 2;
}
