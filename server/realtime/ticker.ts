// The ticker: once per tick, one encoded delta per race that changed, to that race's room only.
// With several processes, only the race's writer (the lease holder) sends it; Socket.IO's Redis
// adapter carries it to the race's room on every process, and a server-side message gives the
// other processes the delta itself (their view of the race's runners, and its number, for the
// snapshots they serve) and lets each send live-link followers connected to it their runner's entry.
import { decodeDelta, encodeDelta, type RaceDelta } from '../../shared/wire.ts';
import type { Coordinator } from '../cluster.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { RaceService } from '../race-service.ts';
import { followRoom, raceRoom, type SpectatorNamespace } from './socket-server.ts';

export interface Ticker {
  /** Sends every race's pending delta now. */
  tick(): Promise<void>;
  /** Runs what is due if the timers have fallen behind (called on incoming fixes). */
  poke(): void;
  stop(): void;
}

export function startTicker(deps: {
  service: RaceService;
  spectators: SpectatorNamespace;
  coordinator: Coordinator;
  clock: Clock;
  tickMs: number;
  logger: Logger;
  metrics?: Pick<Metrics, 'tickLag' | 'deltaSent'>;
  /**
   * Whether other processes serve the event (through Socket.IO's Redis adapter): they hear each
   * delta this process sends as a server-side message. Without an adapter between processes
   * there is nobody to tell (Socket.IO's own adapter cannot send one).
   */
  otherProcesses?: boolean;
}): Ticker {
  const { service, spectators, coordinator, clock, logger } = deps;

  /**
   * Followers of one runner (live links) get that runner's entry only. Each process sends to the
   * followers connected to it: the writer as it sends the delta, the others on its race:tick.
   */
  const sendToFollowers = (raceId: string, delta: RaceDelta): void => {
    const race = service.race(raceId);
    if (!race) return;
    for (const entry of delta.entries) {
      const room = followRoom(raceId, race.tracker.participantAt(entry.runnerIndex)?.participantId ?? '');
      if (!spectators.adapter.rooms.has(room)) continue;
      // That runner's entry and crossings only: a follower learns nothing of anyone else.
      const crossings = delta.crossings.filter((c) => c.runnerIndex === entry.runnerIndex);
      spectators.local.to(room).emit('follow:delta', raceId, encodeDelta({ ...delta, entries: [entry], crossings }));
    }
  };

  if (deps.otherProcesses) {
    spectators.on('race:tick', (raceId: unknown, seq: unknown, encoded: unknown) => {
      if (typeof raceId !== 'string' || typeof seq !== 'number') return;
      // The Redis adapters carry server-side events as JSON, where bytes would arrive as a plain
      // object: the delta travels as base64.
      const bytes = typeof encoded === 'string' ? Buffer.from(encoded, 'base64') : encoded instanceof Uint8Array ? encoded : null;
      let delta: RaceDelta | null = null;
      try {
        delta = bytes ? decodeDelta(bytes) : null;
      } catch (cause) {
        logger.warn({ err: cause, raceId }, 'unreadable delta from another process');
      }
      // (Its runners, as the writer published them, are this process's view of the race.)
      service.observeSequence(raceId, seq, delta);
      if (delta) sendToFollowers(raceId, delta);
    });
  }

  /** Sends a race's pending delta, if this process writes it and it is not still sending the last one. */
  const busy = new Set<string>();
  const sendRace = async (raceId: string, tickAtMs: number): Promise<void> => {
    if (busy.has(raceId) || !coordinator.isWriter(raceId)) return;
    busy.add(raceId);
    try {
      const t = await service.takeDelta(raceId, tickAtMs);
      if (!t) return;
      const bytes = encodeDelta(t.delta);
      // The other processes hear of the sequence number before the room receives the delta,
      // so a snapshot served there is never behind the deltas its client then receives.
      if (deps.otherProcesses) spectators.serverSideEmit('race:tick', t.raceId, t.delta.seq, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
      spectators.to(raceRoom(t.raceId)).emit('race:delta', t.raceId, bytes);
      deps.metrics?.deltaSent(bytes.byteLength);
      sendToFollowers(t.raceId, t.delta);
    } catch (cause) {
      logger.error({ err: cause, raceId }, 'tick failed');
    } finally {
      busy.delete(raceId);
    }
  };

  // Races tick at staggered moments within each period: a broadcast is written to each socket of
  // the room in turn, so sending every race at the same instant would make the last race's
  // spectators wait for all the others'. Each race still gets one delta per period.
  const slotCount = Math.max(1, Math.min(10, Math.floor(deps.tickMs / 20)));
  const slotMs = deps.tickMs / slotCount;
  let slot = 0;
  let dueAtMs = performance.now() + slotMs;
  const runSlot = (s: number): void => {
    try {
      if (s === 0) {
        service.closeSilentRunners(coordinator.isWriter);
        void service.evaluateAlerts(coordinator.isWriter);
      }
      const tickAtMs = clock.nowMs();
      service.raceIds().forEach((raceId, index) => {
        if (index % slotCount === s) void sendRace(raceId, tickAtMs);
      });
    } catch (cause) {
      logger.error({ err: cause }, 'tick failed');
    }
  };
  const runDue = (): void => {
    const nowMs = performance.now();
    if (nowMs < dueAtMs) return;
    deps.metrics?.tickLag(nowMs - dueAtMs);
    const late = Math.floor((nowMs - dueAtMs) / slotMs) + 1;
    if (late >= slotCount) {
      // A whole period behind (a stalled or overloaded process): every race once, now, and on
      // from here; no race goes without its delta, none gets two at once.
      for (let s = 0; s < slotCount; s++) runSlot(s);
      dueAtMs = nowMs + slotMs;
      return;
    }
    for (let k = 0; k < late; k++) {
      runSlot(slot);
      slot = (slot + 1) % slotCount;
      dueAtMs += slotMs;
    }
  };
  const timer = setInterval(runDue, slotMs);
  timer.unref();
  return {
    tick: async () => {
      service.closeSilentRunners(coordinator.isWriter);
      void service.evaluateAlerts(coordinator.isWriter);
      const tickAtMs = clock.nowMs();
      await Promise.all(service.raceIds().map((raceId) => sendRace(raceId, tickAtMs)));
    },
    // Under a flood of incoming fixes the event loop may not get round to timers for seconds;
    // the ingest path calls this so that deltas keep their pace and fixes wait instead.
    poke: () => {
      if (performance.now() >= dueAtMs) runDue();
    },
    stop: () => clearInterval(timer),
  };
}
