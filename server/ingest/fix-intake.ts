// Fixes from devices, however they arrive (ingest/pipeline.ts hands them here): checked at the
// edge, resends spotted, stored through the race's log and answered once read back. A fix is
// appended to the log before it is applied and acknowledged, so an acknowledged fix is never
// lost; a fix that fails validation changes nothing. Moved out of RaceService, which keeps the
// log (`throughLog`) and applies what is read back from it.
import { ErrorCodes, RunnerStatus, errorAck, okAck, type Ack, type PositionAccepted } from '../../shared/protocol.ts';
import type { Clock } from '../core/clock.ts';
import type { Fix } from '../core/race-tracker.ts';
import type { DeviceIdentity } from '../device-credentials.ts';
import type { AppliedResult, LogWaiters } from '../log-waiters.ts';
import type { PingLog } from '../ports/stores.ts';
import type { RaceEntry } from '../race-service.ts';
import { slicer } from '../slices.ts';
import { checkFix, type FixLimits } from './fix.ts';

export interface FixIntakeDeps {
  clock: Clock;
  fixLimits: FixLimits;
  race: (raceId: string) => RaceEntry | undefined;
  waiters: Pick<LogWaiters, 'size' | 'sweep'>;
  /** Appends to a race's log and waits until this process has read the entry back and applied it. */
  throughLog: (raceId: string, append: (tag: string) => Promise<string>) => Promise<{ stored: false } | { stored: true; result: AppliedResult }>;
  pingLog: Pick<PingLog, 'append'>;
  /** Fixes stored through this process (for /metrics), counted here. */
  counts: { stored: number };
}

export class FixIntake {
  /**
   * Pings on their way through the log at once, at most. Past this the process is
   * overloaded: a ping is answered "send again" at once rather than queued, so that memory and
   * delays stay bounded and the phone retries (as it does when Redis is away). A process on Redis
   * offered more than its core can carry reads its pings back after a second or so: with 5,000
   * it refused about half of what it could have taken, and refusing a ping costs nearly as much
   * as taking it (the socket read and the answer). 15,000 waiting hold a few tens of MB, and an
   * answer comes within 5 s (LogWaiters.APPLY_WAIT_MS) however far behind the log is; a ping so
   * answered still counts until it is read back (for a minute at most), so a process whose
   * reading falls behind does not take ever more.
   */
  static readonly MAX_PINGS_IN_FLIGHT = 15_000;
  /** Fixes of one batch handed to the log at once: on Redis one Stream entry (the log writes up to 200 pings an entry). */
  static readonly BATCH_CHUNK = 200;
  private readonly fixListeners: Array<(outcome: string) => void> = [];

  constructor(private readonly deps: FixIntakeDeps) {}

  /**
   * Several fixes from one device (a tracker app's offline buffer): applied in the order they
   * were recorded, each answered on its own.
   */
  async ingestFixes(device: DeviceIdentity, raws: readonly unknown[]): Promise<Array<Ack<PositionAccepted>>> {
    const order = raws
      .map((raw, index) => ({ raw, index, at: recordedAtOf(raw) }))
      .sort((a, b) => a.at - b.at || a.index - b.index);
    const answers: Array<Ack<PositionAccepted>> = new Array(raws.length);
    // Handed to the log together, in recorded order: on Redis what one turn of the event loop
    // appends to a race goes out as one Stream entry, so a batch costs one round trip, not one per
    // fix. In chunks: a buffer of thousands would otherwise be refused whole by the bound on fixes
    // in flight; and in memory, where every step resolves at once, a 10,000-fix batch would hold
    // the event loop for most of a second: other clients get their turn between slices.
    const slices = slicer();
    for (let from = 0; from < order.length; from += FixIntake.BATCH_CHUNK) {
      await Promise.all(
        order.slice(from, from + FixIntake.BATCH_CHUNK).map(async ({ raw, index }) => {
          answers[index] = await this.ingestFix(device, raw);
        }),
      );
      await slices.pause();
    }
    return answers;
  }

  /**
   * The ping pipeline: validate, persist, apply, acknowledge. A fix is appended to the log before
   * it is applied and acknowledged, so an acknowledged fix is never lost; a fix that fails
   * validation changes nothing.
   */
  async ingestFix(device: DeviceIdentity, raw: unknown): Promise<Ack<PositionAccepted>> {
    const answer = await this.ingestOne(device, raw);
    for (const listener of this.fixListeners) listener(answer.ok ? (answer.data.applied ? 'applied' : 'not_applied') : answer.code);
    return answer;
  }

  /** Hears the outcome of every fix: applied, not_applied (stored, older or a repeat) or an error code. */
  onFixAnswered(listener: (outcome: string) => void): void {
    this.fixListeners.push(listener);
  }

  private async ingestOne(device: DeviceIdentity, raw: unknown): Promise<Ack<PositionAccepted>> {
    const receivedAtMs = this.deps.clock.nowMs();
    const checked = checkFix(raw, receivedAtMs, this.deps.fixLimits);
    if (!checked.ok) return errorAck(checked.code, checked.message);
    const race = this.deps.race(device.raceId);
    if (!race || !race.tracker.hasParticipant(device.participantId)) {
      return errorAck(ErrorCodes.UNKNOWN_DEVICE, 'this device is not registered in any race');
    }
    const ping = { raceId: race.raceId, participantId: device.participantId, receivedAtMs, fix: checked.fix };
    // An app resending what it sent before (its buffer after a 503, a retry whose answer was
    // lost) is answered as before and not logged again: the log would fill with copies.
    const fixKey = `${race.raceId}\n${device.participantId}\n${checked.fix.recordedAtMs}`;
    if (this.recentFixes.has(fixKey)) return this.answerWithoutApplying(race, device.participantId);
    return this.ingestThroughLog(race, ping, fixKey);
  }

  /**
   * A ping is appended to the race's log and applied when this process reads it back, in log
   * order with every other process's pings: the acknowledgement then tells where the runner is,
   * as every process sees it.
   */
  private async ingestThroughLog(
    race: RaceEntry,
    ping: { raceId: string; participantId: string; receivedAtMs: number; fix: Fix },
    fixKey: string,
  ): Promise<Ack<PositionAccepted>> {
    if (this.deps.waiters.size >= FixIntake.MAX_PINGS_IN_FLIGHT) {
      // The sweeper's timer may be held back by the flood itself.
      this.deps.waiters.sweep();
      if (this.deps.waiters.size >= FixIntake.MAX_PINGS_IN_FLIGHT) return errorAck(ErrorCodes.UNAVAILABLE, 'the server is busy; send the position again');
    }
    const sent = await this.deps.throughLog(race.raceId, (tag) => this.deps.pingLog.append(ping, tag));
    if (!sent.stored) return errorAck(ErrorCodes.UNAVAILABLE, 'the position could not be stored; send it again');
    this.deps.counts.stored += 1;
    this.rememberFix(fixKey);
    const { result } = sent;
    if (result !== null && typeof result === 'object') return okAck(result);
    // Stored, so it will be applied; it has not been yet (the log is slow to read back): answered
    // with where the runner is now.
    return this.answerWithoutApplying(race, ping.participantId);
  }

  /** The answer to a fix that moves no one: where the runner is now. */
  private answerWithoutApplying(race: RaceEntry, participantId: string): Ack<PositionAccepted> {
    const runner = race.tracker.runnerSnapshot(participantId);
    return okAck({ applied: false, distanceAlongRaceM: runner?.distanceAlongRaceM ?? 0, lap: runner?.lap ?? 0, status: runner?.status ?? RunnerStatus.notStarted });
  }

  /** Fixes stored lately (race, participant, time), oldest first, for spotting copies. */
  private readonly recentFixes = new Set<string>();
  /** About 8 MB: ten minutes of 1 Hz fixes from 160 runners, or a few big resent buffers. */
  static readonly RECENT_FIXES_KEPT = 100_000;

  private rememberFix(fixKey: string): void {
    this.recentFixes.add(fixKey);
    if (this.recentFixes.size > FixIntake.RECENT_FIXES_KEPT) this.recentFixes.delete(this.recentFixes.values().next().value!);
  }
}

/** The recorded time of a raw fix, for ordering a batch; anything unreadable sorts first. */
function recordedAtOf(raw: unknown): number {
  const at = typeof raw === 'object' && raw !== null ? (raw as { recordedAtMs?: unknown }).recordedAtMs : undefined;
  return typeof at === 'number' && Number.isFinite(at) ? at : -Infinity;
}
