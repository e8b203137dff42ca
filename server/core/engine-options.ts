// The course engine's tuning: every threshold the race tracker uses, each default with the reason
// for its value (docs/COURSE-ENGINE.md has the table).
import { defaultFinishOptions, type FinishOptions } from './finish.ts';

/**
 * Tuning of the course engine. Defaults in `defaultEngineOptions`, each with the reason for its
 * value.
 */
export interface EngineOptions {
  /** A fix farther than this from every reachable point of the course is off the corridor. */
  corridorM: number;
  /** Fastest plausible running speed; bounds how far along the course a runner can be. */
  maxSpeedMps: number;
  /** Speed assumed for a runner seen for the first time, and its uncertainty. */
  typicalSpeedMps: number;
  /** How far behind the last estimate a tracked runner's fix may be placed (noise along the line): at least this, m. */
  backwardToleranceM: number;
  /** ...and at least this many of the fix's standard deviations (a phone stating 50 m reaches 100 m back). */
  backwardToleranceSigmas: number;
  /** Slack added to the reachable window, for noise and clock error. */
  windowMarginM: number;
  /** Slack either side of where a tracked runner is expected (beyond four standard deviations). */
  windowSlackM: number;
  /** Least uncertainty of where a lost runner is expected to be found again. */
  reacquireSigmaM: number;
  /** A lost runner back on the course this many of those uncertainties from where expected is found again at once (farther, once later fixes agree). */
  reacquireGateSigma: number;
  /** Accuracy assumed when a fix reports none, and the bounds put on reported accuracies. */
  defaultAccuracyM: number;
  minAccuracyM: number;
  maxAccuracyM: number;
  /** Kalman process noise, m²/s³. */
  accelerationNoise: number;
  /** How far a runner's pace can drift over a long gap, m/s (caps the process noise). */
  paceDriftSigmaMps: number;
  /**
   * For a phone that reports every `paceDriftSparseIntervalMs` or less often, the pace drift
   * between its fixes is bounded by `sparsePaceDriftSigmaMps` instead (in proportion from a usual
   * interval of `paceDriftDenseIntervalMs`).
   */
  sparsePaceDriftSigmaMps: number;
  paceDriftDenseIntervalMs: number;
  paceDriftSparseIntervalMs: number;
  /** A fix more than this many standard deviations from where the runner should be is an outlier. */
  outlierGateSigma: number;
  /** After this many unusable fixes in a row the runner is looked for over all they can have reached. */
  lostAfterRejections: number;
  /**
   * Or after this long without a usable fix, and this many of the runner's usual fix intervals;
   * always after `lostAfterMaxMs` (minutes in which anything can have happened).
   */
  lostAfterMs: number;
  lostAfterIntervals: number;
  lostAfterMaxMs: number;
  /** Fixes off the corridor for this long make the runner off course. */
  offCourseAfterMs: number;
  /** How far off the course an unusable fix is still projected onto it, to see where a runner off it is heading. */
  projectWithinM: number;
  /** A fix this many standard deviations from the estimate starts an episode (episode.ts); one within `episodeEndSigma` ends it. */
  suspectSigma: number;
  episodeEndSigma: number;
  /** How fast a runner may walk back along the course, m/s. */
  walkBackMps: number;
  /** How much a runner's pace may have drifted since the last trusted fix, for judging episodes, m/s. */
  episodePaceSigmaMps: number;
  /** An episode that looks like a held reflection for longer than this is taken as the truth. */
  episodeMaxMs: number;
  /**
   * The checkpoint of a steady runner's estimate (runner-state.ts `anchorM`): moved on at most
   * every `anchorEveryMs`, trusted for at most `anchorMaxAgeMs`, with the runner's pace drifting
   * by `anchorPaceSigmaMps` meanwhile; `anchorAgreeFixes` fixes in a row that agree with it, and
   * not with the estimate, put the runner back on it.
   */
  anchorEveryMs: number;
  anchorMaxAgeMs: number;
  anchorPaceSigmaMps: number;
  anchorAgreeFixes: number;
  /** A fix agrees with the checkpoint within this many standard deviations of where its pace leads. */
  anchorGateSigma: number;
  /** An estimate this far from where the checkpoint's pace leads is not put back on it (a reflection throws a fix less far). */
  anchorMaxDepartM: number;
  /** Within this of the finish line the engine watches for the crossing (beyond it, only the approach is kept). */
  approachZoneM: number;
  /** A lost runner found far from where expected must be seen moving on at least this fast, over at least this long. */
  confirmPaceMps: number;
  confirmSpanSec: number;
  /** Unusable fixes carry the runner on at their pace for at most this long. */
  deadReckonMaxMs: number;
  /** The finish: how close counts as at the line. */
  finishToleranceM: number;
  /** A crossing time is refined from the fixes this long either side of the point (split-fit.ts). */
  splitWindowMs: number;
  /** Past the finish a runner is expected no further on than this: everyone slows at the line. */
  pastFinishExpectedM: number;
  /** A reading of a fix that keeps the runner going on is taken over one that takes them back when it costs at most this more. */
  onwardsWithinCost: number;
  /** A fix this much further aside than the runner's fixes were (at least), all at once, is a reflection. */
  sideJumpM: number;
  /** Windows longer than this many segments are searched through the spatial index. */
  indexAboveSegments: number;
  /** Error of a speed reported by the phone (Doppler), m/s. */
  reportedSpeedSigmaMps: number;
  /** Below this reported speed the phone's heading is noise and is not used. */
  headingMinSpeedMps: number;
  /** A reported speed below this is a phone standing still. */
  standingBelowMps: number;
  /** An estimate at least this fast is a runner moving (fixes before it are not where they stand). */
  movingAboveMps: number;
  /** Where a standing runner is: the mean of about this many of their latest fixes. */
  stillWindowFixes: number;
  /** Cost (in the same units as an offset of one standard deviation squared, halved) of running against a segment's direction. */
  headingWeight: number;
  /** Published progress stays within this many fix errors of the latest fix, so a runner who stops is not shown running on. */
  publishAheadOfFixSigmas: number;
  /** The same, for a fix behind the estimate (a runner who may be slowing down). */
  publishAheadOfSlowerFixSigmas: number;
  /** Whether two misses in a row on one side let the speed estimate adapt faster. */
  trendAdapts: boolean;
  /** Log-likelihood ratio past which the runner is taken to be standing still (and back to moving below its negative). */
  standingLlr: number;
  /** A runner silent this many of their own fix intervals (at least `silentMinMs`, at most `silentMaxMs`) is silent. */
  silentIntervals: number;
  silentMinMs: number;
  silentMaxMs: number;
  finish: FinishOptions;
}

export const defaultEngineOptions: EngineOptions = {
  corridorM: 50, // wider than GPS noise in a street canyon, narrower than the next street
  maxSpeedMps: 7, // 2:23 per km: faster than any sustained running pace
  typicalSpeedMps: 3, // 5:33 per km, the middle of a mass-participation field
  backwardToleranceM: 30,
  backwardToleranceSigmas: 2, // a stadium's scatter (15 m, stated as 22 m): a runner who stopped may be 40 m behind an estimate that ran on
  windowMarginM: 60,
  windowSlackM: 10,
  reacquireSigmaM: 50,
  reacquireGateSigma: 2,
  defaultAccuracyM: 10,
  minAccuracyM: 3, // phones report 1-3 m in open sky, which is optimistic
  maxAccuracyM: 50,
  accelerationNoise: 0.02, // speed wanders by about 0.35 m/s a minute
  paceDriftSigmaMps: 0.5, // but a pace held for ten minutes is within about 15%
  sparsePaceDriftSigmaMps: 0.3, // between fixes a minute apart or more: a pace held over minutes, within about 10%
  paceDriftDenseIntervalMs: 10_000,
  paceDriftSparseIntervalMs: 40_000,
  outlierGateSigma: 4,
  lostAfterRejections: 2,
  lostAfterMs: 30_000,
  // (A phone set to report every 30 s or every 5 minutes is not lost at each fix: its estimate's
  // own uncertainty has grown with the gap; only a gap well beyond its habit is a silence.)
  lostAfterIntervals: 2.5,
  lostAfterMaxMs: 120_000,
  offCourseAfterMs: 20_000, // one bad fix is a GPS glitch, not a runner leaving the course
  projectWithinM: 300,
  suspectSigma: 3.5,
  episodeEndSigma: 2,
  walkBackMps: 2,
  episodePaceSigmaMps: 0.2, // a pace held within about 7% over a minute or two
  episodeMaxMs: 120_000, // reflections in a street canyon hold for up to a minute or so
  anchorEveryMs: 20_000,
  anchorMaxAgeMs: 180_000, // beyond the longest reflection (episodeMaxMs), within a pace held for minutes
  anchorPaceSigmaMps: 0.1,
  anchorAgreeFixes: 2, // one fix where the pace leads could be another reflection
  anchorGateSigma: 2.5,
  anchorMaxDepartM: 100,
  approachZoneM: 200,
  confirmPaceMps: 1.5,
  confirmSpanSec: 15, // a brisk walk: faster than drifting GPS fixes of someone standing or strolling
  deadReckonMaxMs: 90_000, // longer than a reflected signal holds in a street canyon
  finishToleranceM: 3,
  splitWindowMs: 45_000, // a runner holds their pace over a minute and a half; fixes every 5 s give nine each side
  // About 30 s walking down the chute; fixes further on are still found (the window reaches the
  // run-out), but are not what the estimate expects.
  pastFinishExpectedM: 40,
  sideJumpM: 20, // beyond GPS scatter beside the course; a reflection throws fixes 30-100 m
  onwardsWithinCost: 2, // about two standard deviations: readings that fit about equally well
  indexAboveSegments: 300,
  reportedSpeedSigmaMps: 0.5,
  headingMinSpeedMps: 1.5,
  standingBelowMps: 0.5,
  movingAboveMps: 1,
  stillWindowFixes: 20,
  headingWeight: 8,
  publishAheadOfFixSigmas: 1.5,
  publishAheadOfSlowerFixSigmas: 1,
  trendAdapts: false,
  standingLlr: 2,
  silentIntervals: 3,
  silentMinMs: 60_000, // a phone that reports every second and misses a minute has stopped
  silentMaxMs: 15 * 60_000,
  finish: defaultFinishOptions,
};
