// The ticker: once per tick, one encoded delta per race that changed, to that race's room only.
import { encodeDelta } from '../../shared/wire.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../logger.ts';
import type { RaceService } from '../race-service.ts';
import { followRoom, raceRoom, type SpectatorNamespace } from './socket-server.ts';

export interface Ticker {
  /** Sends the pending deltas now; the interval calls this. */
  tick(): void;
  stop(): void;
}

export function startTicker(deps: {
  service: RaceService;
  spectators: SpectatorNamespace;
  clock: Clock;
  tickMs: number;
  logger: Logger;
}): Ticker {
  const { service, spectators, clock, logger } = deps;
  const tick = (): void => {
    try {
      service.evaluateAlerts();
      for (const { raceId, delta, participantIdAt } of service.takeDeltas(clock.nowMs())) {
        spectators.to(raceRoom(raceId)).emit('race:delta', raceId, encodeDelta(delta));
        // Followers of one runner (live links) get that runner's entry only, and only if they are here.
        for (const entry of delta.entries) {
          const room = followRoom(raceId, participantIdAt(entry.runnerIndex));
          if (!spectators.adapter.rooms.has(room)) continue;
          spectators.to(room).emit('follow:delta', raceId, encodeDelta({ ...delta, entries: [entry] }));
        }
      }
    } catch (cause) {
      logger.error({ err: cause }, 'tick failed');
    }
  };
  const timer = setInterval(tick, deps.tickMs);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
