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
  /**
   * Progress as of the last fix placed on the course: what road closures go by. The published
   * distance may run a little ahead of it on dead reckoning while fixes are unusable.
   */
  confirmedDistanceM: number;
  /** The filtered estimate of progress; null until the runner is first placed on the course. */
  progress: Progress | null;
  /** Recorded time of the newest fix seen, on course or not. */
  lastFixAtMs: number | null;
  /** Fixes in a row that could not be used (off the corridor, or implausible). */
  rejectedInARow: number;
  /** Recorded time of the first of the current run of fixes off the corridor. */
  offCorridorSinceMs: number | null;
  /** When the smoothed estimate reached the race's end (null while it is short of it). */
  reachedEndAtMs: number | null;
  /** Fixes in a row placed at the end while moving (two make a finish) or standing (five do). */
  movingAtEnd: number;
  standingAtEnd: number;
  /** Recorded time of the first of the fixes standing at the end. */
  standingAtEndSinceMs: number | null;
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
  /** Least uncertainty of where a lost runner is expected to be found again. */
  reacquireSigmaM: number;
  /** Accuracy assumed when a fix reports none, and the bounds put on reported accuracies. */
  defaultAccuracyM: number;
  minAccuracyM: number;
  maxAccuracyM: number;
  /** Kalman process noise, m²/s³. */
  accelerationNoise: number;
  /** How far a runner's pace can drift over a long gap, m/s (caps the process noise). */
  paceDriftSigmaMps: number;
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
  /** A reported speed below this is a phone standing still. */
  standingBelowMps: number;
  /** A runner this fast at the line is running through it (see the finish rule). */
  finishMovingMps: number;
  /** How far past the line the finish area reaches (the chute runners walk down). */
  finishAreaM: number;
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
  reacquireSigmaM: 50,
  defaultAccuracyM: 10,
  minAccuracyM: 3, // phones report 1-3 m in open sky, which is optimistic
  maxAccuracyM: 50,
  accelerationNoise: 0.02, // speed wanders by about 0.35 m/s a minute
  paceDriftSigmaMps: 0.5, // but a pace held for ten minutes is within about 15%
  outlierGateSigma: 4,
  lostAfterRejections: 3,
  offCourseAfterMs: 20_000, // one bad fix is a GPS glitch, not a runner leaving the course
  finishToleranceM: 3,
  indexAboveSegments: 300,
  reportedSpeedSigmaMps: 0.5,
  headingMinSpeedMps: 1.5,
  standingBelowMps: 0.5,
  finishMovingMps: 1,
  finishAreaM: 100,
  headingWeight: 8,
  publishAheadOfFixSigmas: 2,
};

export class RaceTracker {
  private readonly runners: RunnerState[];
  private readonly indexById = new Map<string, number>();
  private readonly roster: Participant[];
  private readonly removed = new Set<number>();
  private readonly dirty = new Set<number>();
  private seq = 0;

  constructor(
    readonly raceId: string,
    readonly course: Course,
    public startsAtMs: number,
    participants: readonly Participant[],
    private readonly options: EngineOptions = defaultEngineOptions,
    /** Sequence number to continue from (a race whose tracker was replaced keeps counting). */
    initialSeq = 0,
  ) {
    this.seq = initialSeq;
    if (participants.length > 0xffff) throw new Error('a race holds at most 65,535 participants');
    this.roster = [...participants];
    this.runners = participants.map((p, index) => {
      if (this.indexById.has(p.participantId)) {
        throw new Error(`participant ${p.participantId} appears twice in race ${raceId}`);
      }
      this.indexById.set(p.participantId, index);
      return initialRunnerState(p.participantId);
    });
  }

  /** The participants in the race now (moved ones left out). */
  get participants(): Participant[] {
    return this.roster.filter((_, index) => !this.removed.has(index));
  }

  /** Everyone ever in the race, moved ones included (to tell their followers of a change). */
  get everParticipants(): readonly Participant[] {
    return this.roster;
  }

  /** The participant at a runner index of the deltas, moved ones included. */
  participantAt(runnerIndex: number): Participant | undefined {
    return this.roster[runnerIndex];
  }

  /**
   * Takes a participant out of this race's roster (moved to another race): no snapshot or delta
   * of this race mentions them again. Their index is never reused.
   */
  removeParticipant(participantId: string): boolean {
    const index = this.indexById.get(participantId);
    if (index === undefined) return false;
    this.indexById.delete(participantId);
    this.removed.add(index);
    this.dirty.delete(index);
    return true;
  }

  /** Adds a participant (moved here from another race), starting afresh on this course. */
  addParticipant(participant: Participant): void {
    if (this.indexById.has(participant.participantId)) return;
    if (this.roster.length >= 0xffff) throw new Error('a race holds at most 65,535 participants');
    this.indexById.set(participant.participantId, this.roster.length);
    this.roster.push(participant);
    this.runners.push(initialRunnerState(participant.participantId));
  }

  get sequence(): number {
    return this.seq;
  }

  /** Whether a runner changed since the last delta. */
  get hasPendingDelta(): boolean {
    return this.dirty.size > 0;
  }

  /**
   * Continues the sequence after a number another process (the race's previous writer) may have
   * sent, so a new writer never reuses or goes back on a sequence number.
   */
  continueSequenceFrom(seq: number): void {
    if (Number.isInteger(seq) && seq > this.seq) this.seq = seq;
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
    if (fix.recordedAtMs < this.startsAtMs) return this.accepted(runner, false);
    runner.lastFixAtMs = fix.recordedAtMs; // heard from, even when out of the race
    if (isOutOfRace(runner.status)) return this.accepted(runner, false);
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
    // A reported speed no runner can reach is a glitch of the phone: not used at all.
    const reportedMps = fix.speedMps !== undefined && fix.speedMps <= o.maxSpeedMps ? fix.speedMps : undefined;
    const moving = fix.headingDeg !== undefined && (reportedMps ?? 0) >= o.headingMinSpeedMps;
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
      // Found from scratch: anywhere the runner can have reached since their last placement (or
      // the start), preferring where their pace would have taken them. Time spent off the
      // corridor is not counted as running: a runner back from a detour on a loop is on the lap
      // they left, not the next one.
      const sinceM = Math.max(runner.distanceAlongRaceM - o.backwardToleranceM, 0);
      const placedAtMs = runner.progress?.atMs ?? this.startsAtMs;
      const elapsedSec = Math.max(0, fix.recordedAtMs - placedAtMs) / 1000;
      const runningSec = Math.max(0, (runner.offCorridorSinceMs ?? fix.recordedAtMs) - placedAtMs) / 1000;
      // The runner's own pace when known; for a first fix, the phone's speed (on a lapped course
      // it is what picks the lap of a runner first seen mid-race), else a typical pace.
      const paceMps = runner.progress
        ? Math.min(Math.max(runner.progress.speedMps, 0), o.maxSpeedMps)
        : reportedMps !== undefined && reportedMps >= o.headingMinSpeedMps
          ? reportedMps
          : o.typicalSpeedMps;
      const expectedM = runner.distanceAlongRaceM + runningSec * paceMps;
      const sigmaM = Math.max(o.reacquireSigmaM, runningSec * paceMps * 0.25);
      candidate = searchCourse(
        this.course,
        fix,
        sinceM,
        sinceM + o.backwardToleranceM + elapsedSec * o.maxSpeedMps + o.windowMarginM,
        { distanceAlongRaceM: expectedM, sigmaM },
        searchOptions,
      );
      // Found, but far from where the runner can be expected: a fix from across a loop's infield
      // or a detour that brushes another part of the course. Not taken: the runner stays lost
      // until a fix agrees with their pace (a shortcut is not progress).
      if (runner.progress && candidate && Math.abs(candidate.distanceAlongRaceM - expectedM) > o.outlierGateSigma * sigmaM) {
        runner.rejectedInARow += 1;
        runner.offCorridorSinceMs ??= fix.recordedAtMs;
        if (fix.recordedAtMs - runner.offCorridorSinceMs >= o.offCourseAfterMs) runner.status = RunnerStatus.offCourse;
        return;
      }
    } else {
      const progress = runner.progress!;
      predicted = predictProgress(progress, fix.recordedAtMs, o.accelerationNoise, maxSpeedVar, o.paceDriftSigmaMps);
      // Nobody is further along the race than its end, however fast they were going.
      if (predicted.distanceM > raceDistanceM) predicted = { ...predicted, distanceM: raceDistanceM };
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

    if (!candidate && predicted && predicted.distanceM >= raceDistanceM - o.finishAreaM) {
      // Past the finish, runners walk on down the chute, off the end of the line: near the end,
      // a fix up to the finish area's reach beyond the line is still a fix at the finish.
      candidate = searchCourse(this.course, fix, raceDistanceM - 1, raceDistanceM, null, {
        ...searchOptions,
        maxOffsetM: o.corridorM + o.finishAreaM,
        headingDeg: undefined,
      });
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
    runner.status = RunnerStatus.onCourse;
    // The finish. The search never goes past the end, so a runner beyond the line is placed on
    // it; but so is, now and then, a noisy fix of a runner who stopped (or collapsed) a few
    // metres short of it. So: a runner whose phone reports them moving through the line finishes
    // on two fixes in a row placed at the end, with the smoothed estimate there too; otherwise
    // five fixes in a row at the very end are needed (or two spanning two minutes). Never on a fix that has just found a lost runner. The
    // finish time is when the smoothed estimate reached the line.
    const endM = raceDistanceM - o.finishToleranceM;
    if (runner.progress.distanceM < endM || lost) {
      runner.reachedEndAtMs = null;
      runner.movingAtEnd = 0;
      runner.standingAtEnd = 0;
      runner.standingAtEndSinceMs = null;
    } else {
      runner.reachedEndAtMs ??= fix.recordedAtMs;
      const movingMps = reportedMps ?? runner.progress.speedMps;
      const atEnd = candidate.distanceAlongRaceM >= endM;
      runner.movingAtEnd = atEnd && movingMps >= o.finishMovingMps ? runner.movingAtEnd + 1 : 0;
      const standing = candidate.distanceAlongRaceM >= raceDistanceM - 1;
      runner.standingAtEnd = standing ? runner.standingAtEnd + 1 : 0;
      runner.standingAtEndSinceMs = standing ? (runner.standingAtEndSinceMs ?? fix.recordedAtMs) : null;
    }
    // Standing: five fixes in a row, or (for a phone that reports every few minutes) two spanning two minutes.
    const stoodAtEnd =
      runner.standingAtEnd >= 5 ||
      (runner.standingAtEnd >= 2 && fix.recordedAtMs - (runner.standingAtEndSinceMs ?? fix.recordedAtMs) >= 120_000);
    // Only the phone's own speed tells a runner going through the line from one stopping at it:
    // the estimate's speed lags a stop. Without it, the standing rule decides.
    const movedThrough = reportedMps !== undefined && runner.movingAtEnd >= 2;
    if (runner.reachedEndAtMs !== null && (movedThrough || stoodAtEnd)) {
      runner.distanceAlongRaceM = raceDistanceM;
      runner.confirmedDistanceM = raceDistanceM;
      runner.status = RunnerStatus.finished;
      runner.finishedAtMs = runner.reachedEndAtMs;
      return;
    }
    // Not finished: the published distance stays short of the line until the finish is certain.
    runner.distanceAlongRaceM = Math.max(runner.distanceAlongRaceM, Math.min(estimateM, raceDistanceM - o.finishToleranceM - 0.1));
    runner.confirmedDistanceM = Math.max(runner.confirmedDistanceM, Math.min(estimateM, raceDistanceM - o.finishToleranceM - 0.1));
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
    if (fix.speedMps === undefined || fix.speedMps > this.options.maxSpeedMps) return progress;
    // A phone standing still reports a small speed in a random direction, never a negative one:
    // below a slow walk it means standing, or the estimate would creep forward.
    let alongMps = fix.speedMps < this.options.standingBelowMps ? 0 : fix.speedMps;
    if (fix.headingDeg !== undefined) {
      // A runner walking off to the side makes no progress, however fast they walk.
      const courseBearingDeg = this.course.path.bearingAtRaceDistance(progress.distanceM);
      // Headings are noisy by several degrees: up to 20 degrees off counts as straight along,
      // so that noise does not read as slowing down.
      const cosAngle = Math.cos(((fix.headingDeg - courseBearingDeg) * Math.PI) / 180);
      alongMps *= Math.min(1, Math.max(0, cosAngle / Math.cos((20 * Math.PI) / 180)));
    }
    return updateSpeed(progress, alongMps, this.options.reportedSpeedSigmaMps ** 2, this.options.maxSpeedMps);
  }

  /**
   * An organiser's decision: out of the race (DNF, DSQ), or back in it ('racing', to undo a
   * mistake). Out of the race, fixes are logged but move no one, and road sections stop waiting.
   */
  setOutcome(participantId: string, outcome: 'dnf' | 'dsq' | 'racing'): boolean {
    const index = this.indexById.get(participantId);
    if (index === undefined) return false;
    const runner = this.runners[index]!;
    if (outcome === 'racing') {
      if (runner.status === RunnerStatus.dnf || runner.status === RunnerStatus.dsq) {
        runner.status = runner.finishedAtMs !== null ? RunnerStatus.finished : runner.progress ? RunnerStatus.onCourse : RunnerStatus.notStarted;
      }
    } else {
      runner.status = outcome === 'dnf' ? RunnerStatus.dnf : RunnerStatus.dsq;
    }
    this.dirty.add(index);
    return true;
  }

  /** A new start time (before the start, usually): fixes before it place no one. */
  setStartsAt(startsAtMs: number): void {
    this.startsAtMs = startsAtMs;
  }

  /**
   * Restores a runner from a store (a restarted process continues the race). A state of another
   * shape (an older version's) keeps what can be trusted, the published distance, status and
   * finish, and places the runner afresh from their next fix.
   */
  restoreRunner(saved: RunnerState): void {
    const index = this.indexById.get(saved.participantId);
    if (index === undefined) return;
    this.runners[index] = normaliseRunnerState(saved, this.course.raceDistanceM);
    this.dirty.add(index);
  }

  /**
   * Takes over a runner from the race's previous course: their published distance (never to go
   * back) and finish are kept; where they are on the new line is found from their next fix.
   */
  carryOver(previous: RunnerState): void {
    const index = this.indexById.get(previous.participantId);
    if (index === undefined) return;
    const state = normaliseRunnerState(previous, this.course.raceDistanceM);
    if (!isOutOfRace(state.status) && state.progress) state.rejectedInARow = this.options.lostAfterRejections;
    this.runners[index] = state;
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
    const runners = this.roster.flatMap((_, runnerIndex) => (this.removed.has(runnerIndex) ? [] : [this.runnerSnapshotAt(runnerIndex)]));
    return { raceId: this.raceId, seq: this.seq, takenAtMs, runners };
  }

  /** One runner as a snapshot shows them; undefined for someone not in the race. */
  runnerSnapshot(participantId: string): RunnerSnapshot | undefined {
    const index = this.indexById.get(participantId);
    return index === undefined ? undefined : this.runnerSnapshotAt(index);
  }

  private runnerSnapshotAt(runnerIndex: number): RunnerSnapshot {
    const p = this.roster[runnerIndex]!;
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
    confirmedDistanceM: 0,
    progress: null,
    lastFixAtMs: null,
    rejectedInARow: 0,
    offCorridorSinceMs: null,
    reachedEndAtMs: null,
    movingAtEnd: 0,
    standingAtEnd: 0,
    standingAtEndSinceMs: null,
    batteryPct: null,
    finishedAtMs: null,
  };
}

/**
 * A copy of a runner's state that shares nothing with it (the tracker goes on changing its own):
 * what a store keeps. Much cheaper than a structured clone, thousands of times a second.
 */
export function copyRunnerState(state: RunnerState): RunnerState {
  return { ...state, progress: state.progress === null ? null : { ...state.progress } };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Finished, or taken out of the race by an organiser: no fix moves them any more. */
export function isOutOfRace(status: RunnerStatusCode): boolean {
  return status === RunnerStatus.finished || status === RunnerStatus.dnf || status === RunnerStatus.dsq;
}

/** A saved state made safe to continue from, whatever version saved it. */
function normaliseRunnerState(saved: Partial<RunnerState>, raceDistanceM: number): RunnerState {
  const state = initialRunnerState(String(saved.participantId));
  const knownStatuses: number[] = Object.values(RunnerStatus);
  if (finite(saved.status) && knownStatuses.includes(saved.status)) state.status = saved.status;
  if (finite(saved.distanceAlongRaceM)) state.distanceAlongRaceM = Math.min(Math.max(saved.distanceAlongRaceM, 0), raceDistanceM);
  state.confirmedDistanceM = finite(saved.confirmedDistanceM) ? Math.min(Math.max(saved.confirmedDistanceM, 0), state.distanceAlongRaceM) : state.distanceAlongRaceM;
  if (finite(saved.lastFixAtMs)) state.lastFixAtMs = saved.lastFixAtMs;
  if (finite(saved.batteryPct)) state.batteryPct = saved.batteryPct;
  if (finite(saved.finishedAtMs)) state.finishedAtMs = saved.finishedAtMs;
  if (state.status === RunnerStatus.finished) state.distanceAlongRaceM = state.confirmedDistanceM = raceDistanceM;
  const p = saved.progress;
  if (p && [p.distanceM, p.speedMps, p.varDD, p.covDV, p.varVV, p.atMs].every(finite) && p.varDD > 0 && p.varVV > 0) {
    state.progress = { ...p };
    state.rejectedInARow = finite(saved.rejectedInARow) ? saved.rejectedInARow : 0;
    state.offCorridorSinceMs = finite(saved.offCorridorSinceMs) ? saved.offCorridorSinceMs : null;
  } else if (state.status === RunnerStatus.onCourse || state.status === RunnerStatus.offCourse) {
    // Placed before, but with nothing to predict from: found again from the published distance.
    state.progress = null;
  }
  return state;
}

/** The wire carries decimetres; answers use the same precision so both agree. */
function roundDm(distanceM: number): number {
  return Math.round(distanceM * 10) / 10;
}
