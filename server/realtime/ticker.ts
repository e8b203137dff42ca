// The ticker: once per tick, one encoded delta per race that changed, to that race's room only.
// With several processes, only the race's writer (the lease holder) sends it; Socket.IO's Redis
// adapter carries it to the race's room on every process, and a server-side message tells the
// other processes its sequence number (for the snapshots they serve) and lets each send live-link
// followers connected to it their runner's entry.
import { decodeDelta, encodeDelta, type RaceDelta } from '../../shared/wire.ts';
import type { Coordinator } from '../cluster.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../logger.ts';
import type { RaceService } from '../race-service.ts';
import { followRoom, raceRoom, type SpectatorNamespace } from './socket-server.ts';

export interface Ticker {
  /** Sends the pending deltas now; the interval calls this. */
  tick(): Promise<void>;
  stop(): void;
}

export function startTicker(deps: {
  service: RaceService;
  spectators: SpectatorNamespace;
  coordinator: Coordinator;
  clock: Clock;
  tickMs: number;
  logger: Logger;
}): Ticker {
  const { service, spectators, coordinator, clock, logger } = deps;

  /** Followers of one runner (live links) get that runner's entry only, and only where they are connected. */
  const sendToFollowers = (raceId: string, delta: RaceDelta, local: boolean): void => {
    const race = service.race(raceId);
    if (!race) return;
    for (const entry of delta.entries) {
      const room = followRoom(raceId, race.tracker.participantAt(entry.runnerIndex)?.participantId ?? '');
      if (!spectators.adapter.rooms.has(room)) continue;
      const target = local ? spectators.local.to(room) : spectators.to(room);
      target.emit('follow:delta', raceId, encodeDelta({ ...delta, entries: [entry] }));
    }
  };

  if (service.sharesLog) {
    spectators.on('race:tick', (raceId: unknown, seq: unknown, bytes: unknown) => {
      if (typeof raceId !== 'string' || typeof seq !== 'number' || !(bytes instanceof Uint8Array)) return;
      service.observeSequence(raceId, seq);
      try {
        sendToFollowers(raceId, decodeDelta(bytes), true);
      } catch (cause) {
        logger.warn({ err: cause, raceId }, 'unreadable delta from another process');
      }
    });
  }

  let running: Promise<void> | null = null;
  const tickOnce = async (): Promise<void> => {
    try {
      service.evaluateAlerts(coordinator.isWriter);
      const tickAtMs = clock.nowMs();
      const races = service.raceIds().filter(coordinator.isWriter);
      const taken = await Promise.all(races.map((raceId) => service.takeDelta(raceId, tickAtMs)));
      for (const t of taken) {
        if (!t) continue;
        const bytes = encodeDelta(t.delta);
        // The other processes hear of the sequence number before the room receives the delta,
        // so a snapshot served there is never behind the deltas its client then receives.
        if (service.sharesLog) spectators.serverSideEmit('race:tick', t.raceId, t.delta.seq, bytes);
        spectators.to(raceRoom(t.raceId)).emit('race:delta', t.raceId, bytes);
        sendToFollowers(t.raceId, t.delta, service.sharesLog);
      }
    } catch (cause) {
      logger.error({ err: cause }, 'tick failed');
    }
  };
  // A tick still writing its checkpoints when the next is due is not overlapped: the next waits.
  const tick = (): Promise<void> => {
    running ??= tickOnce().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void tick(), deps.tickMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
