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
import { defaultSnapOptions, snapToCourse, type SnapOptions, type SnapPrior } from './snap.ts';

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
  /** Last placement on the course, the prior for the next snap. */
  lastPlacement: SnapPrior | null;
  /** Recorded time of the newest fix seen, on course or not. */
  lastFixAtMs: number | null;
  batteryPct: number | null;
  finishedAtMs: number | null;
}

export interface RaceTrackerOptions {
  snap: SnapOptions;
  /** A runner this close to the race distance has crossed the finish. */
  finishToleranceM: number;
}

export const defaultRaceTrackerOptions: RaceTrackerOptions = {
  snap: defaultSnapOptions,
  finishToleranceM: 5,
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
    private readonly options: RaceTrackerOptions = defaultRaceTrackerOptions,
  ) {
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
    if (fix.batteryPct !== undefined) runner.batteryPct = fix.batteryPct;

    const isStale = runner.lastFixAtMs !== null && fix.recordedAtMs <= runner.lastFixAtMs;
    if (isStale || runner.status === RunnerStatus.finished || fix.recordedAtMs < this.startsAtMs) {
      return this.accepted(runner, false);
    }
    runner.lastFixAtMs = fix.recordedAtMs;

    const snap = snapToCourse(this.course, fix, runner.lastPlacement, this.startsAtMs, this.options.snap);
    if (!snap.onCourse) {
      // Never published as a position: the runner keeps their last distance, marked off course.
      if (runner.status !== RunnerStatus.offCourse) {
        runner.status = RunnerStatus.offCourse;
        this.dirty.add(index);
      }
      return this.accepted(runner, true);
    }

    const previousM = runner.distanceAlongRaceM;
    const previousStatus = runner.status;
    let distanceM = Math.max(previousM, snap.distanceAlongRaceM);
    let status: RunnerStatusCode = RunnerStatus.onCourse;
    if (distanceM >= this.course.raceDistanceM - this.options.finishToleranceM) {
      distanceM = this.course.raceDistanceM;
      status = RunnerStatus.finished;
      runner.finishedAtMs = fix.recordedAtMs;
    }
    runner.distanceAlongRaceM = distanceM;
    runner.status = status;
    runner.lastPlacement = {
      distanceAlongRaceM: distanceM,
      recordedAtMs: fix.recordedAtMs,
      lon: fix.lon,
      lat: fix.lat,
    };
    if (distanceM !== previousM || status !== previousStatus) this.dirty.add(index);
    return this.accepted(runner, true);
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
    const runners: RunnerSnapshot[] = this.participants.map((p, runnerIndex) => {
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
      };
    });
    return { raceId: this.raceId, seq: this.seq, takenAtMs, runners };
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
    lastPlacement: null,
    lastFixAtMs: null,
    batteryPct: null,
    finishedAtMs: null,
  };
}

/** The wire carries decimetres; answers use the same precision so both agree. */
function roundDm(distanceM: number): number {
  return Math.round(distanceM * 10) / 10;
}
