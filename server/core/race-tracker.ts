// The state of one race: where each runner is, which of them moved since the last tick, and the
// race's sequence of deltas. Plain data and plain functions; the caller passes time in.
import { lapNumber } from '../../shared/course-path.ts';
import {
  RunnerStatus,
  type PositionAccepted,
  type RaceSnapshot,
  type RunnerSnapshot,
  type RunnerStatusCode,
} from '../../shared/protocol.ts';
import type { RaceDelta } from '../../shared/wire.ts';
import type { Course } from './course.ts';
import { predictProgress, startProgress, updateProgress, updateSpeed, type Progress } from './progress-filter.ts';
import { searchCourse } from './snap.ts';

export interface Participant {
  participantId: string;
  bib: string;
  name: string;
}

/** A validated fix, as every protocol's parser produces it. */
export interface Fix {
  lat: number;
  lon: number;
  recordedAtMs: number;
  accuracyM?: number;
  speedMps?: number;
  headingDeg?: number;
  batteryPct?: number;
}

/** What is kept of a runner between fixes; what a store persists. */
export interface RunnerState {
  participantId: string;
  status: RunnerStatusCode;
  /** Published progress; never decreases. */
  distanceAlongRaceM: number;
  /** The filtered estimate of progress; null until the runner is first placed on the course. */
  progress: Progress | null;
  /** Recorded time of the newest fix seen, on course or not. */
  lastFixAtMs: number | null;
  /** Fixes in a row that could not be used (off the corridor, or implausible). */
  rejectedInARow: number;
  /** Recorded time of the first of the current run of fixes off the corridor. */
  offCorridorSinceMs: number | null;
  batteryPct: number | null;
  finishedAtMs: number | null;
}

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
  /** How far behind the last estimate a fix may be placed (noise along the line). */
  backwardToleranceM: number;
  /** Slack added to the reachable window, for noise and clock error. */
  windowMarginM: number;
  /** Accuracy assumed when a fix reports none, and the bounds put on reported accuracies. */
  defaultAccuracyM: number;
  minAccuracyM: number;
  maxAccuracyM: number;
  /** Kalman process noise, m²/s³. */
  accelerationNoise: number;
  /** A fix more than this many standard deviations from where the runner should be is an outlier. */
  outlierGateSigma: number;
  /** After this many unusable fixes in a row the runner is lost and found again from scratch. */
  lostAfterRejections: number;
  /** Fixes off the corridor for this long make the runner off course. */
  offCourseAfterMs: number;
  /** The estimate this close to the race distance means the runner has finished. */
  finishToleranceM: number;
  /** Windows longer than this many segments are searched through the spatial index. */
  indexAboveSegments: number;
  /** Error of a speed reported by the phone (Doppler), m/s. */
  reportedSpeedSigmaMps: number;
  /** Below this reported speed the phone's heading is noise and is not used. */
  headingMinSpeedMps: number;
  /** Cost (in the same units as an offset of one standard deviation squared, halved) of running against a segment's direction. */
  headingWeight: number;
  /** Published progress stays within this many fix errors of the latest fix, so a runner who stops is not shown running on. */
  publishAheadOfFixSigmas: number;
}

export const defaultEngineOptions: EngineOptions = {
  corridorM: 50, // wider than GPS noise in a street canyon, narrower than the next street
  maxSpeedMps: 7, // 2:23 per km: faster than any sustained running pace
  typicalSpeedMps: 3, // 5:33 per km, the middle of a mass-participation field
  backwardToleranceM: 30,
  windowMarginM: 60,
  defaultAccuracyM: 10,
  minAccuracyM: 3, // phones report 1-3 m in open sky, which is optimistic
  maxAccuracyM: 50,
  accelerationNoise: 0.02, // speed wanders by about 0.35 m/s a minute
  outlierGateSigma: 4,
  lostAfterRejections: 3,
  offCourseAfterMs: 20_000, // one bad fix is a GPS glitch, not a runner leaving the course
  finishToleranceM: 3,
  indexAboveSegments: 300,
  reportedSpeedSigmaMps: 0.5,
  headingMinSpeedMps: 1.5,
  headingWeight: 8,
  publishAheadOfFixSigmas: 2,
};

export class RaceTracker {
  private readonly runners: RunnerState[];
  private readonly indexById = new Map<string, number>();
  private readonly dirty = new Set<number>();
  private seq = 0;

  constructor(
    readonly raceId: string,
    readonly course: Course,
    readonly startsAtMs: number,
    readonly participants: readonly Participant[],
    private readonly options: EngineOptions = defaultEngineOptions,
    /** Sequence number to continue from (a race whose tracker was replaced keeps counting). */
    initialSeq = 0,
  ) {
    this.seq = initialSeq;
    if (participants.length > 0xffff) throw new Error('a race holds at most 65,535 participants');
    this.runners = participants.map((p, index) => {
      if (this.indexById.has(p.participantId)) {
        throw new Error(`participant ${p.participantId} appears twice in race ${raceId}`);
      }
      this.indexById.set(p.participantId, index);
      return initialRunnerState(p.participantId);
    });
  }

  get sequence(): number {
    return this.seq;
  }

  hasParticipant(participantId: string): boolean {
    return this.indexById.has(participantId);
  }

  runnerState(participantId: string): RunnerState | undefined {
    const index = this.indexById.get(participantId);
    return index === undefined ? undefined : this.runners[index];
  }

  /**
   * Applies a fix. Fixes recorded before the newest one seen are kept by the caller's log but do
   * not move the runner; so are duplicates.
   */
  applyFix(participantId: string, fix: Fix): PositionAccepted {
    const index = this.indexById.get(participantId);
    if (index === undefined) throw new Error(`participant ${participantId} is not in race ${this.raceId}`);
    const runner = this.runners[index]!;
    const isStale = runner.lastFixAtMs !== null && fix.recordedAtMs <= runner.lastFixAtMs;
    if (isStale) return this.accepted(runner, false);
    // The newest battery reading, even from a fix that places no one (before the start, finished).
    if (fix.batteryPct !== undefined) runner.batteryPct = fix.batteryPct;
    if (runner.status === RunnerStatus.finished || fix.recordedAtMs < this.startsAtMs) {
      return this.accepted(runner, false);
    }
    runner.lastFixAtMs = fix.recordedAtMs;
    const previousM = runner.distanceAlongRaceM;
    const previousStatus = runner.status;
    this.advance(runner, fix);
    if (runner.distanceAlongRaceM !== previousM || runner.status !== previousStatus) this.dirty.add(index);
    return this.accepted(runner, true);
  }

  /** Moves a runner's estimate with one new fix and sets what is published. */
  private advance(runner: RunnerState, fix: Fix): void {
    const o = this.options;
    const { raceDistanceM } = this.course;
    const fixSigmaM = Math.min(Math.max(fix.accuracyM ?? o.defaultAccuracyM, o.minAccuracyM), o.maxAccuracyM);
    const lost = runner.progress === null || runner.rejectedInARow >= o.lostAfterRejections;
    const moving = fix.headingDeg !== undefined && (fix.speedMps ?? 0) >= o.headingMinSpeedMps;
    const searchOptions = {
      fixSigmaM,
      maxOffsetM: o.corridorM,
      indexAboveSegments: o.indexAboveSegments,
      headingDeg: moving ? fix.headingDeg : undefined,
      headingWeight: o.headingWeight,
    };
    const maxSpeedVar = (o.maxSpeedMps / 2) ** 2;

    let predicted: Progress | null = null;
    let candidate;
    if (lost) {
      // Found from scratch: anywhere the runner can have reached, preferring the distance a
      // typical pace would have taken them since their last estimate (or the start).
      const sinceM = runner.progress ? Math.max(runner.distanceAlongRaceM - o.backwardToleranceM, 0) : 0;
      const sinceMs = runner.progress ? runner.progress.atMs : this.startsAtMs;
      const elapsedSec = Math.max(0, fix.recordedAtMs - sinceMs) / 1000;
      // The phone's own speed is the best guess of the pace so far; on a lapped course it is
      // what picks the lap of a runner first seen mid-race.
      const paceGuessMps = fix.speedMps !== undefined && fix.speedMps >= o.headingMinSpeedMps ? fix.speedMps : o.typicalSpeedMps;
      const expectedM = (runner.progress ? runner.distanceAlongRaceM : 0) + elapsedSec * paceGuessMps;
      candidate = searchCourse(
        this.course,
        fix,
        sinceM,
        sinceM + o.backwardToleranceM + elapsedSec * o.maxSpeedMps + o.windowMarginM,
        { distanceAlongRaceM: expectedM, sigmaM: Math.max(100, elapsedSec * paceGuessMps * 0.25) },
        searchOptions,
      );
    } else {
      const progress = runner.progress!;
      predicted = predictProgress(progress, fix.recordedAtMs, o.accelerationNoise, maxSpeedVar);
      const elapsedSec = (fix.recordedAtMs - progress.atMs) / 1000;
      const spreadM = o.outlierGateSigma * Math.sqrt(predicted.varDD + fixSigmaM * fixSigmaM) + o.windowMarginM;
      // Reachable since the last estimate, and not absurdly far from the prediction.
      const fromM = Math.max(progress.distanceM - o.backwardToleranceM, predicted.distanceM - spreadM);
      const toM = Math.min(progress.distanceM + elapsedSec * o.maxSpeedMps + o.windowMarginM, predicted.distanceM + spreadM);
      candidate = searchCourse(
        this.course,
        fix,
        fromM,
        toM,
        { distanceAlongRaceM: predicted.distanceM, sigmaM: Math.sqrt(predicted.varDD + fixSigmaM * fixSigmaM) },
        searchOptions,
      );
    }

    if (!candidate) {
      // Off the corridor: never published as a position. One such fix is a glitch; a run of them
      // for long enough means the runner has left the course.
      runner.offCorridorSinceMs ??= fix.recordedAtMs;
      if (runner.progress === null) return; // never placed: nothing to show, nothing to carry on
      if (fix.recordedAtMs - runner.offCorridorSinceMs >= o.offCourseAfterMs) runner.status = RunnerStatus.offCourse;
      this.reject(runner, fix, predicted);
      return;
    }
    runner.offCorridorSinceMs = null;

    const varianceM2 = fixSigmaM * fixSigmaM;
    if (predicted) {
      const innovation = candidate.distanceAlongRaceM - predicted.distanceM;
      const innovationVar = predicted.varDD + varianceM2;
      if (innovation * innovation > o.outlierGateSigma ** 2 * innovationVar) {
        // On the course but not where the runner can be: a reflected or jumped fix.
        this.reject(runner, fix, predicted);
        return;
      }
      // A surprise of more than two standard deviations suggests the runner changed pace (a
      // stop, a sprint): let the speed estimate move faster than the model alone would.
      const surprised = innovation * innovation > 4 * innovationVar;
      const adapted = surprised ? { ...predicted, covDV: predicted.covDV * 2, varVV: Math.min(predicted.varVV * 4, maxSpeedVar) } : predicted;
      runner.progress = updateProgress(adapted, candidate.distanceAlongRaceM, varianceM2, o.maxSpeedMps);
    } else {
      runner.progress = startProgress(candidate.distanceAlongRaceM, varianceM2, fix.recordedAtMs, o.typicalSpeedMps, o.typicalSpeedMps);
    }
    runner.rejectedInARow = 0;
    runner.progress = this.withReportedSpeed(runner.progress, fix);

    // The filtered estimate, but never far ahead of what the latest fix shows.
    const estimateM = Math.min(
      Math.max(runner.progress.distanceM, 0),
      candidate.distanceAlongRaceM + o.publishAheadOfFixSigmas * fixSigmaM,
      raceDistanceM,
    );
    runner.distanceAlongRaceM = Math.max(runner.distanceAlongRaceM, estimateM);
    runner.status = RunnerStatus.onCourse;
    if (runner.distanceAlongRaceM >= raceDistanceM - o.finishToleranceM) {
      runner.distanceAlongRaceM = raceDistanceM;
      runner.status = RunnerStatus.finished;
      runner.finishedAtMs = fix.recordedAtMs;
    }
  }

  /**
   * A fix that could not be used. For a short while the runner is carried on at their pace
   * (dead reckoning, with the phone's own speed when it reports one), so a single bad fix does
   * not make them fall behind; after that they are lost and found again from scratch.
   */
  private reject(runner: RunnerState, fix: Fix, predicted: Progress | null): void {
    const o = this.options;
    runner.rejectedInARow += 1;
    if (!predicted || !runner.progress || runner.status === RunnerStatus.offCourse) return;
    if (runner.rejectedInARow >= o.lostAfterRejections) return;
    if (fix.recordedAtMs - runner.progress.atMs > o.offCourseAfterMs) return;
    runner.progress = this.withReportedSpeed(predicted, fix);
    const limitM = this.course.raceDistanceM - o.finishToleranceM - 1; // never finish by reckoning
    runner.distanceAlongRaceM = Math.max(runner.distanceAlongRaceM, Math.min(runner.progress.distanceM, limitM));
  }

  /** Folds in the phone's speed, keeping only the part along the course. */
  private withReportedSpeed(progress: Progress, fix: Fix): Progress {
    if (fix.speedMps === undefined) return progress;
    let alongMps = fix.speedMps;
    if (fix.headingDeg !== undefined) {
      // A runner walking off to the side makes no progress, however fast they walk.
      const courseBearingDeg = this.course.path.bearingAtRaceDistance(progress.distanceM);
      // Headings are noisy by several degrees: up to 20 degrees off counts as straight along,
      // so that noise does not read as slowing down.
      const cosAngle = Math.cos(((fix.headingDeg - courseBearingDeg) * Math.PI) / 180);
      alongMps = fix.speedMps * Math.min(1, Math.max(0, cosAngle / Math.cos((20 * Math.PI) / 180)));
    }
    return updateSpeed(progress, alongMps, this.options.reportedSpeedSigmaMps ** 2, this.options.maxSpeedMps);
  }

  /** Restores a runner from a store (a restarted process continues the race). */
  restoreRunner(state: RunnerState): void {
    const index = this.indexById.get(state.participantId);
    if (index === undefined) return;
    this.runners[index] = { ...state };
    this.dirty.add(index);
  }

  /** The runners that changed since the last call, as one delta; null when none did. */
  takeDelta(tickAtMs: number): RaceDelta | null {
    if (this.dirty.size === 0) return null;
    const entries = [...this.dirty].sort((a, b) => a - b).map((runnerIndex) => {
      const runner = this.runners[runnerIndex]!;
      return { runnerIndex, distanceAlongRaceM: runner.distanceAlongRaceM, status: runner.status };
    });
    this.dirty.clear();
    this.seq += 1;
    return { seq: this.seq, tickAtMs, entries };
  }

  snapshot(takenAtMs: number): RaceSnapshot {
    const runners = this.participants.map((_, runnerIndex) => this.runnerSnapshotAt(runnerIndex));
    return { raceId: this.raceId, seq: this.seq, takenAtMs, runners };
  }

  /** One runner as a snapshot shows them; undefined for someone not in the race. */
  runnerSnapshot(participantId: string): RunnerSnapshot | undefined {
    const index = this.indexById.get(participantId);
    return index === undefined ? undefined : this.runnerSnapshotAt(index);
  }

  private runnerSnapshotAt(runnerIndex: number): RunnerSnapshot {
    const p = this.participants[runnerIndex]!;
    const state = this.runners[runnerIndex]!;
    const placed = state.status !== RunnerStatus.notStarted;
    const point = placed ? this.course.path.pointAtRaceDistance(state.distanceAlongRaceM) : null;
    return {
      runnerIndex,
      participantId: p.participantId,
      bib: p.bib,
      name: p.name,
      distanceAlongRaceM: roundDm(state.distanceAlongRaceM),
      lap: this.lapOf(state.distanceAlongRaceM),
      status: state.status,
      lon: point ? point[0] : null,
      lat: point ? point[1] : null,
      finishedAtMs: state.finishedAtMs,
    };
  }


  private lapOf(distanceAlongRaceM: number): number {
    return lapNumber(distanceAlongRaceM, this.course.lapLengthM, this.course.raceDistanceM);
  }

  private accepted(runner: RunnerState, applied: boolean): PositionAccepted {
    return {
      applied,
      distanceAlongRaceM: roundDm(runner.distanceAlongRaceM),
      lap: this.lapOf(runner.distanceAlongRaceM),
      status: runner.status,
    };
  }
}

export function initialRunnerState(participantId: string): RunnerState {
  return {
    participantId,
    status: RunnerStatus.notStarted,
    distanceAlongRaceM: 0,
    progress: null,
    lastFixAtMs: null,
    rejectedInARow: 0,
    offCorridorSinceMs: null,
    batteryPct: null,
    finishedAtMs: null,
  };
}

/** The wire carries decimetres; answers use the same precision so both agree. */
function roundDm(distanceM: number): number {
  return Math.round(distanceM * 10) / 10;
}
