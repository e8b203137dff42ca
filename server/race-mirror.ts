// The races this process does not write, as one part of the race service: it keeps a copy of
// their runners as their writers publish them (each writer's deltas, applied to the tracker here)
// and reads them again from the writer's checkpoint when a delta was missed or names a runner not
// known here yet, never moving anyone back. Kept apart from the ping pipeline (race-service.ts)
// because it is the one way a race's runners change on a process that does not apply its pings;
// which races those are is race-takeover.ts.
import type { RaceDelta } from '../shared/wire.ts';
import type { Logger } from './logger.ts';
import type { Stores } from './ports/stores.ts';
import type { RaceEntry } from './race-service.ts';

export interface RaceMirrorDeps {
  stores: Stores;
  logger: Logger;
  race(raceId: string): RaceEntry | undefined;
  /** Whether this process applies the race's pings (it writes the race): then nothing is mirrored. */
  appliesPings(raceId: string): boolean;
}

export class RaceMirror {
  /** Races whose runners are being read again from the checkpoint (one read at a time per race). */
  private readonly refreshing = new Set<string>();

  constructor(private readonly deps: RaceMirrorDeps) {}

  /**
   * Another process sent this race's delta: snapshots from here carry its number and, where this
   * process does not apply the race's pings, its runners as it published them.
   */
  observeSequence(raceId: string, seq: number, delta: RaceDelta | null = null): void {
    const tracker = this.deps.race(raceId)?.tracker;
    if (!tracker) return;
    if (delta && !this.deps.appliesPings(raceId)) {
      // A delta missed (Pub/Sub delivers at most once) or one naming a runner not known here yet:
      // the runners are read again from the writer's checkpoint.
      const missed = tracker.sequence > 0 && delta.seq > tracker.sequence + 1;
      if (!tracker.applyPublished(delta) || missed) void this.refreshMirror(raceId);
    }
    tracker.continueSequenceFrom(seq);
    tracker.forgetPendingCrossings();
  }

  /**
   * The runners of a race this process does not write, read again from its writer's checkpoint
   * (at most a tick behind the deltas), never moving anyone back.
   */
  private async refreshMirror(raceId: string): Promise<void> {
    if (this.refreshing.has(raceId)) return;
    this.refreshing.add(raceId);
    try {
      const states = await this.deps.stores.runnerStates.loadRace(raceId);
      const race = this.deps.race(raceId);
      if (!race || this.deps.appliesPings(raceId)) return;
      for (const saved of states) {
        const current = race.tracker.runnerState(saved.participantId);
        if (!current || (saved.status === current.status && !(saved.distanceAlongRaceM > current.distanceAlongRaceM))) continue;
        race.tracker.restoreRunner(saved);
      }
    } catch (cause) {
      this.deps.logger.warn({ err: cause, raceId }, 'runners could not be read again from the checkpoint');
    } finally {
      this.refreshing.delete(raceId);
    }
  }
}
