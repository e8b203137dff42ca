// The state of one race: where each runner is, the times they crossed each timing point, which of
// them changed since the last tick, and the race's sequence of deltas. Plain data and plain
// functions; the caller passes time in.
//
// Each fix goes through named steps (docs/COURSE-ENGINE.md): measure it, place it on the course
// (acquire a runner not yet placed, track one who is, or look for one who was lost), update the
// estimate, decide the finish, publish, and record the timing points passed (reading the fix in
// fix-reading.ts, the placing steps in course-placement.ts, the finish and the timing points in
// finish-line.ts).
import { lapNumber } from '../../shared/course-path.ts';
import {
  RunnerStatus,
  type PositionAccepted,
  type RaceSnapshot,
  type RunnerSnapshot,
  type TimingPoint,
  type LocalNames,
} from '../../shared/protocol.ts';
import { MAX_ENTRIES_PER_DELTA, type CrossingEntry, type RaceDelta } from '../../shared/wire.ts';
import type { Course } from './course.ts';
import { CoursePlacement } from './course-placement.ts';
import { measureFix, usableFix } from './fix-reading.ts';
import { FinishLine } from './finish-line.ts';
import { packCrossing, timingPointsFor, unpackCrossing, UNTIMED_CROSSING, withCrossing } from './timing-points.ts';
import { defaultEngineOptions, type EngineOptions } from './engine-options.ts';
import { clearPending, clearSuspect, initialRunnerState, isOutOfRace, normaliseRunnerState, type RunnerState } from './runner-state.ts';

export interface Participant {
  participantId: string;
  bib: string;
  name: string;
  /** The name in each page language (the event file's `names`). */
  names?: LocalNames;
  /** Category labels (sex, age group, any label), for results. */
  categories?: readonly string[];
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

export interface RaceTrackerOptions {
  engine?: EngineOptions;
  /** Sequence number to continue from (a race whose tracker was replaced keeps counting). */
  initialSeq?: number;
  /** Timing points; by default every lap line or every 5 km, and the finish. */
  timingPoints?: TimingPoint[];
}

export class RaceTracker {
  private readonly runners: RunnerState[];
  private readonly indexById = new Map<string, number>();
  private readonly roster: Participant[];
  private readonly removed = new Set<number>();
  private readonly dirty = new Set<number>();
  /** Crossings recorded since the last delta: runner index and point index. */
  private pendingCrossings: Array<[number, number]> = [];
  private seq = 0;
  private readonly options: EngineOptions;
  readonly timingPoints: readonly TimingPoint[];
  /** Where each fix puts its runner (course-placement.ts). */
  private readonly placement: CoursePlacement;
  /** The finish line and the timing points (finish-line.ts). */
  private readonly line: FinishLine;
  /** Newest recorded time of any fix applied to this race: the race's own clock for silence. */
  newestFixAtMs: number | null = null;

  constructor(
    readonly raceId: string,
    readonly course: Course,
    public startsAtMs: number,
    participants: readonly Participant[],
    options: EngineOptions | RaceTrackerOptions = {},
    initialSeq = 0,
  ) {
    const o: RaceTrackerOptions = 'corridorM' in options ? { engine: options, initialSeq } : { initialSeq, ...options };
    this.options = o.engine ?? defaultEngineOptions;
    this.seq = o.initialSeq ?? 0;
    this.timingPoints = o.timingPoints ?? timingPointsFor(course);
    this.placement = new CoursePlacement(this.options, course, () => this.startsAtMs);
    this.line = new FinishLine(this.options, course, this.timingPoints, () => this.startsAtMs, (runner, progress, atMs) => this.placement.predict(runner, progress, atMs));
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

  /**
   * The race on another course: the same roster with the same runner indices (moved-out slots
   * kept, so every process, and one restarted, numbers the runners alike), the same sequence and
   * race clock, and every runner carried over (carryOver).
   */
  static onNewCourse(old: RaceTracker, course: Course, options: Omit<RaceTrackerOptions, 'initialSeq'>): RaceTracker {
    const next = new RaceTracker(old.raceId, course, old.startsAtMs, [], { ...options, initialSeq: old.seq });
    old.roster.forEach((p, index) => {
      next.roster.push(p);
      next.runners.push(initialRunnerState(p.participantId));
      if (old.removed.has(index)) next.removed.add(index);
      else next.indexById.set(p.participantId, index);
    });
    next.newestFixAtMs = old.newestFixAtMs;
    for (const p of old.participants) next.carryOver(old.runnerState(p.participantId)!);
    return next;
  }

  get engineOptions(): EngineOptions {
    return this.options;
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
    this.pendingCrossings = this.pendingCrossings.filter(([r]) => r !== index);
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

  /**
   * Forgets the crossings waiting for the next delta: on a process that does not write the race,
   * the writer has sent them (else they would pile up for the whole race, for the first delta
   * after a take-over). The runners they belong to are in the next snapshot either way.
   */
  forgetPendingCrossings(): void {
    this.pendingCrossings = [];
  }

  /**
   * On a process that does not write the race (several processes): the runners as the writer
   * published them in a delta, as a viewer keeps them. Only what a snapshot shows is kept this
   * way (distance, status, crossings, finish time); the engine's own state is rebuilt from the
   * writer's checkpoint and the log when this process takes the race over (resetRunners). False
   * when the delta names a runner this tracker does not have (its roster is behind the writer's).
   */
  applyPublished(delta: RaceDelta): boolean {
    let complete = true;
    for (const entry of delta.entries) {
      const state = this.removed.has(entry.runnerIndex) ? undefined : this.runners[entry.runnerIndex];
      if (!state) {
        complete = this.removed.has(entry.runnerIndex) && complete;
        continue;
      }
      state.distanceAlongRaceM = entry.distanceAlongRaceM;
      state.confirmedDistanceM = entry.distanceAlongRaceM;
      state.status = entry.status;
      // (The runner's recent pace is the writer's: here only what was published is known.)
      state.progress = null;
      if (entry.status === RunnerStatus.finished) state.finishedAtMs ??= delta.tickAtMs;
    }
    const finishIndex = this.timingPoints.length - 1;
    for (const c of delta.crossings) {
      const state = this.removed.has(c.runnerIndex) ? undefined : this.runners[c.runnerIndex];
      if (!state || c.pointIndex >= this.timingPoints.length) continue;
      const packed = c.sinceStartMs === null ? UNTIMED_CROSSING : packCrossing(this.startsAtMs + c.sinceStartMs, c.sigmaMs);
      const crossings = state.crossings.slice(0, Math.max(state.crossings.length, c.pointIndex + 1));
      for (let k = state.crossings.length; k < c.pointIndex; k++) crossings[k] = UNTIMED_CROSSING;
      crossings[c.pointIndex] = packed;
      state.crossings = crossings;
      if (c.pointIndex === finishIndex && c.sinceStartMs !== null) state.finishedAtMs = this.startsAtMs + c.sinceStartMs;
    }
    return complete;
  }

  /** One runner back to before their first fix (a participant who joins the race afresh). */
  resetRunner(participantId: string): void {
    const index = this.indexById.get(participantId);
    if (index === undefined) return;
    this.runners[index] = initialRunnerState(participantId);
    this.dirty.add(index);
  }

  /** Every runner back to before their first fix, nothing pending: a take-over rebuilds them from the checkpoint and the log. */
  resetRunners(): void {
    for (let index = 0; index < this.roster.length; index++) {
      if (!this.removed.has(index)) this.runners[index] = initialRunnerState(this.roster[index]!.participantId);
    }
    this.newestFixAtMs = null;
    this.pendingCrossings = [];
    this.dirty.clear();
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
    if (this.newestFixAtMs === null || fix.recordedAtMs > this.newestFixAtMs) this.newestFixAtMs = fix.recordedAtMs;
    if (runner.lastFixAtMs !== null) {
      const intervalMs = fix.recordedAtMs - runner.lastFixAtMs;
      runner.fixIntervalMs = runner.fixIntervalMs === null ? intervalMs : runner.fixIntervalMs + 0.2 * (intervalMs - runner.fixIntervalMs);
    }
    runner.lastFixAtMs = fix.recordedAtMs; // heard from, even when out of the race
    if (isOutOfRace(runner.status)) return this.accepted(runner, false);
    const previousM = runner.distanceAlongRaceM;
    const previousStatus = runner.status;
    const previousCrossings = runner.crossings;
    this.advance(runner, fix);
    this.noteCrossings(index, previousCrossings);
    if (runner.distanceAlongRaceM !== previousM || runner.status !== previousStatus || runner.crossings !== previousCrossings) this.dirty.add(index);
    return this.accepted(runner, true);
  }

  /** One fix through the engine's steps. */
  private advance(runner: RunnerState, given: Fix): void {
    const placer = this.placement;
    const fix = usableFix(runner, given, this.options);
    const measured = measureFix(fix, runner, this.options);
    const before = runner.progress;
    const placement = before === null ? placer.acquire(runner, fix, measured) : placer.track(runner, before, fix, measured);
    if (!placement) {
      placer.carryOn(runner, fix);
      return;
    }
    const along = placement.measured ?? measured;
    placer.update(runner, placement, fix, along);
    this.line.noteLine(runner, along, placement.candidate.distanceAlongRaceM);
    const phoneStill = along.reportedMps !== undefined && along.reportedMps < this.options.standingBelowMps;
    const placed = { alongM: placement.candidate.distanceAlongRaceM, atMs: fix.recordedAtMs, found: placement.found, offsetM: placement.candidate.offsetM, phoneStill };
    if (this.line.finish(runner, placed, before, along)) return;
    placer.publish(runner, placement.candidate, along);
    this.line.recordCrossings(runner, before);
    const trusted = !placement.found && runner.suspect === null && runner.sideJumpSinceMs === null;
    this.line.gatherSplit(runner, placement.candidate.distanceAlongRaceM, fix.recordedAtMs, along, trusted);
  }

  /**
   * The crossings a runner gained, or had refined, since `previous` (their crossings before): for
   * the next delta. (Crossings are replaced, never changed in place: an unchanged array is the
   * same array.)
   */
  private noteCrossings(index: number, previous: readonly number[]): void {
    const now = this.runners[index]!.crossings;
    if (now === previous) return;
    for (let k = 0; k < now.length; k++) {
      if (k >= previous.length || now[k] !== previous[k]) this.pendingCrossings.push([index, k]);
    }
  }

  /**
   * The runners whom silence now shows to have finished: their last fixes put them at the line,
   * moving through it or standing at it, and nothing came for a while. `nowMs` is the race's own
   * clock (the newest fix of any runner, and the time since it arrived), so a race replayed from
   * its log decides alike. The caller applies each with `finishBySilence`.
   */
  silentFinishes(nowMs: number): string[] {
    const out: string[] = [];
    for (const [index, runner] of this.runners.entries()) {
      if (this.removed.has(index) || runner.status !== RunnerStatus.onCourse || runner.lastFixAtMs === null) continue;
      if (nowMs - runner.lastFixAtMs < this.line.silentAfterMs(runner)) continue;
      if (this.line.silenceDecision(runner, nowMs)) out.push(runner.participantId);
    }
    return out;
  }

  /** Finishes a runner whom silence shows to have finished (checked again with this `nowMs`). */
  finishBySilence(participantId: string, nowMs: number): boolean {
    const index = this.indexById.get(participantId);
    if (index === undefined) return false;
    const runner = this.runners[index]!;
    if (runner.status !== RunnerStatus.onCourse) return false;
    const decision = this.line.silenceDecision(runner, nowMs);
    if (!decision) return false;
    const previousCrossings = runner.crossings;
    this.line.markFinished(runner, decision.atMs, decision.sigmaMs, true);
    this.noteCrossings(index, previousCrossings);
    this.dirty.add(index);
    return true;
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

  /**
   * An organiser sets the lap a runner is on (a lap count the engine got wrong, or a runner first
   * seen mid-race). The runner keeps their place on the lap; lap lines passed gain crossings with
   * no time, lap lines no longer passed lose theirs. False for a street course, a lap out of the
   * race, or a runner not placed or out of the race.
   */
  setLap(participantId: string, lap: number): boolean {
    const index = this.indexById.get(participantId);
    const course = this.course;
    if (index === undefined || !course.isLapped || !Number.isInteger(lap) || lap < 1) return false;
    const runner = this.runners[index]!;
    if (runner.status !== RunnerStatus.onCourse && runner.status !== RunnerStatus.offCourse) return false;
    const lapOfRunner = lapNumber(runner.distanceAlongRaceM, course.lapLengthM, course.raceDistanceM, course.startOffsetM);
    const shiftM = (lap - lapOfRunner) * course.lapLengthM;
    const newM = runner.distanceAlongRaceM + shiftM;
    if (newM < 0 || newM >= course.raceDistanceM) return false;
    runner.distanceAlongRaceM = newM;
    runner.confirmedDistanceM = Math.max(0, runner.confirmedDistanceM + shiftM);
    if (runner.progress) runner.progress = { ...runner.progress, distanceM: runner.progress.distanceM + shiftM };
    if (runner.stillAtM !== null) runner.stillAtM += shiftM;
    if (runner.lastPlacedM !== null) runner.lastPlacedM += shiftM;
    if (runner.anchorM !== null) runner.anchorM += shiftM;
    if (runner.approach !== null) runner.approach = { ...runner.approach, distanceM: runner.approach.distanceM + shiftM };
    clearSuspect(runner);
    runner.beyond = null;
    clearPending(runner);
    runner.reachedLine = null;
    runner.splitFit = null;
    const passed = this.timingPoints.findIndex((p) => p.distanceAlongRaceM > newM);
    const keep = passed === -1 ? this.timingPoints.length - 1 : passed;
    runner.crossings = runner.crossings.slice(0, keep);
    while (runner.crossings.length < keep) runner.crossings = withCrossing(runner.crossings, UNTIMED_CROSSING);
    this.pendingCrossings = this.pendingCrossings.filter(([r]) => r !== index);
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
    const state = normaliseRunnerState(saved, this.course.raceDistanceM, this.timingPoints.length);
    this.runners[index] = state;
    if (state.lastFixAtMs !== null && (this.newestFixAtMs === null || state.lastFixAtMs > this.newestFixAtMs)) this.newestFixAtMs = state.lastFixAtMs;
    this.dirty.add(index);
  }

  /**
   * Takes over a runner from the race's previous course: their published distance (never to go
   * back) and finish are kept; where they are on the new line is found from their next fix.
   */
  carryOver(previous: RunnerState): void {
    const index = this.indexById.get(previous.participantId);
    if (index === undefined) return;
    const state = normaliseRunnerState(previous, this.course.raceDistanceM, this.timingPoints.length);
    if (!isOutOfRace(state.status) && state.progress) state.rejectedInARow = this.options.lostAfterRejections;
    state.anchorM = state.anchorAtMs = null; // distances along the previous line
    state.splitFit = null;
    // (And how far the fixes fell from the previous line: the new one may be drawn where they ran.)
    state.offsetMeanDm = null;
    state.offsetFixes = 0;
    // The timing points may not be where they were: only those still passed keep their times.
    const passed = this.timingPoints.findIndex((p) => p.distanceAlongRaceM > state.distanceAlongRaceM);
    if (state.status !== RunnerStatus.finished) state.crossings = state.crossings.slice(0, passed === -1 ? this.timingPoints.length - 1 : passed);
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
    const crossings: CrossingEntry[] = [];
    // (At most what one delta carries, the newest: older ones are in the snapshot.)
    // (Once each: a crossing recorded and refined within one tick is sent as it is now.)
    const seen = new Set<number>();
    for (const [runnerIndex, pointIndex] of this.pendingCrossings.slice(-MAX_ENTRIES_PER_DELTA)) {
      const key = runnerIndex * 0x10000 + pointIndex;
      if (seen.has(key)) continue;
      seen.add(key);
      const packed = this.runners[runnerIndex]!.crossings[pointIndex];
      if (packed === undefined) continue;
      const at = unpackCrossing(packed);
      crossings.push({ runnerIndex, pointIndex, sinceStartMs: at ? at.atMs - this.startsAtMs : null, sigmaMs: at?.sigmaMs ?? 0 });
    }
    this.pendingCrossings = [];
    this.dirty.clear();
    this.seq += 1;
    return { seq: this.seq, tickAtMs, entries, crossings };
  }

  snapshot(takenAtMs: number): RaceSnapshot {
    const runners = this.roster.flatMap((_, runnerIndex) => (this.removed.has(runnerIndex) ? [] : [this.runnerSnapshotAt(runnerIndex)]));
    return { raceId: this.raceId, seq: this.seq, takenAtMs, startsAtMs: this.startsAtMs, runners };
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
    // The point of the distance as published (to the decimetre, as deltas carry it): every process
    // shows the runner at the same point, whether it applied the fixes or read the writer's deltas.
    const distanceM = roundDm(state.distanceAlongRaceM);
    const point = placed ? this.course.path.pointAtRaceDistance(distanceM) : null;
    return {
      runnerIndex,
      participantId: p.participantId,
      bib: p.bib,
      name: p.name,
      ...(p.names ? { names: { ...p.names } } : {}),
      ...(p.categories && p.categories.length > 0 ? { categories: [...p.categories] } : {}),
      distanceAlongRaceM: distanceM,
      lap: this.lapOf(distanceM),
      status: state.status,
      lon: point ? point[0] : null,
      lat: point ? point[1] : null,
      finishedAtMs: state.finishedAtMs,
      crossings: state.crossings.map((packed) => {
        const at = unpackCrossing(packed);
        return at ? [roundDs(at.atMs - this.startsAtMs), roundDs(at.sigmaMs)] : null;
      }),
    };
  }

  private lapOf(distanceAlongRaceM: number): number {
    return lapNumber(distanceAlongRaceM, this.course.lapLengthM, this.course.raceDistanceM, this.course.startOffsetM);
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

/** The wire carries decimetres; answers use the same precision so both agree. */
function roundDm(distanceM: number): number {
  return Math.round(distanceM * 10) / 10;
}

/** Seconds to a tenth, from milliseconds. */
function roundDs(ms: number): number {
  return Math.round(ms / 100) / 10;
}
