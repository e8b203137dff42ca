// The server processes of an event, one alone in memory or several on Redis, run alike. Any of
// them takes a runner's ping (appended to the race's log) and serves a race's snapshot. Every
// process reads every race's log in order (here): organisers' changes are applied by all, and the
// holder of a race's lease alone applies the race's pings, sends its deltas, saves its checkpoints
// and raises its alerts; the others keep the runners of races they do not write as the deltas
// show them. When the holder dies its lease expires and another process takes the race over,
// rebuilding its runners from the checkpoint and the log. A process alone on its stores (the
// in-memory default) claims every race at its first renewal and keeps them.
import type { Logger } from './logger.ts';
import type { Stores } from './ports/stores.ts';
import type { RaceService } from './race-service.ts';

export interface Coordinator {
  /** Whether this process sends the race's deltas now. */
  isWriter(raceId: string): boolean;
  /** Renews the leases now if it is time (called on incoming fixes, as timers may be late). */
  poke(): void;
  stop(): Promise<void>;
}

export interface CoordinatorOptions {
  service: RaceService;
  stores: Stores;
  logger: Logger;
  /** How often leases are claimed and renewed; a third of their lifetime by default. */
  renewEveryMs?: number;
}

/** How long one blocking read of the logs waits for new pings (it returns as soon as one comes). */
const READ_BLOCK_MS = 1000;

/**
 * Log entries read per race at a time (an entry holds the pings one process appended in one turn
 * of its event loop): large enough for a burst, small enough not to hold the event loop long.
 */
const READ_BATCH = 200;

/** How often a process looks for races other processes created. */
const ADOPT_EVERY_MS = 500;

export function startCoordinator(options: CoordinatorOptions): Coordinator {
  const { service, stores, logger } = options;
  const { leases } = stores;
  const renewEveryMs = options.renewEveryMs ?? Math.max(100, Math.floor(leases.ttlMs / 3));
  // A lease is trusted here for a little less than the stores keep it, so two processes never both
  // believe they write a race, even with a slow reply.
  const trustMs = leases.ttlMs - Math.min(1000, leases.ttlMs / 5);
  const validUntil = new Map<string, number>();
  const writers = new Set<string>();
  let stopped = false;

  const isWriter = (raceId: string): boolean => writers.has(raceId) && (validUntil.get(raceId) ?? 0) > performance.now();

  const renew = async (): Promise<void> => {
    const askedAt = performance.now();
    let held: string[];
    try {
      held = await leases.claim(service.raceIds());
    } catch (cause) {
      // Redis away: what is held stays trusted until its time runs out, then nothing is written.
      logger.warn({ err: cause instanceof Error ? cause.message : String(cause) }, 'lease renewal failed');
      for (const raceId of [...writers]) {
        if (isWriter(raceId)) continue;
        writers.delete(raceId);
        service.releaseRace(raceId);
      }
      return;
    }
    const heldSet = new Set(held);
    for (const raceId of [...writers]) {
      if (!heldSet.has(raceId)) {
        writers.delete(raceId);
        logger.warn({ raceId }, 'lease lost: no longer writing this race');
      }
    }
    // (Also a race whose take-over was under way when its lease went: its pings are the new writer's.)
    for (const raceId of service.raceIds()) if (!heldSet.has(raceId)) service.releaseRace(raceId);
    const taken: string[] = [];
    for (const raceId of held) {
      validUntil.set(raceId, askedAt + trustMs);
      if (writers.has(raceId)) continue;
      try {
        if (await service.takeOver(raceId)) {
          writers.add(raceId);
          taken.push(raceId);
        }
      } catch (cause) {
        logger.warn({ err: cause instanceof Error ? cause.message : String(cause), raceId }, 'take-over failed');
      }
    }
    // (One line for them all: a process alone claims every race at its first renewal.)
    if (taken.length > 0) logger.info({ raceIds: taken, holderId: leases.holderId }, 'writing races');
  };

  const follow = async (): Promise<void> => {
    while (!stopped) {
      const cursors = new Map(service.raceIds().map((raceId) => [raceId, service.appliedLogIdOf(raceId)] as const));
      try {
        const entries = await stores.pingLog.readNew(cursors, READ_BLOCK_MS, READ_BATCH);
        for (const entry of entries) service.applyLoggedSafely(entry);
      } catch (cause) {
        if (stopped) break;
        logger.debug({ err: cause instanceof Error ? cause.message : String(cause) }, 'log read failed');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  // Renewals in a chain, one at a time; due every renewEveryMs. A flood of incoming fixes can hold
  // timers back for seconds, longer than a lease lasts: the ingest path pokes too.
  let renewing: Promise<void> = renew();
  let nextRenewAtMs = performance.now() + renewEveryMs;
  const renewIfDue = (): void => {
    if (stopped || performance.now() < nextRenewAtMs) return;
    nextRenewAtMs = performance.now() + renewEveryMs;
    renewing = renewing.then(renew);
  };
  const timer = setInterval(renewIfDue, renewEveryMs / 2);
  timer.unref();
  // A race added while the event runs is claimed at once, not at the next renewal.
  service.onRaceAdded(() => {
    if (stopped) return;
    nextRenewAtMs = performance.now() + renewEveryMs;
    renewing = renewing.then(renew);
  });
  // Races another process created: added here within half a second (one count when there are none).
  let adopting = false;
  const adoptTimer = setInterval(() => {
    if (adopting || stopped) return;
    adopting = true;
    service
      .adoptCreatedRaces()
      .catch((cause: unknown) => logger.debug({ err: cause instanceof Error ? cause.message : String(cause) }, 'created races could not be read'))
      .finally(() => {
        adopting = false;
      });
  }, ADOPT_EVERY_MS);
  adoptTimer.unref();
  // Ends by itself once stopped (its blocking read returns, or fails as the stores close).
  void follow();

  // A Redis that does not answer at all must not hold up the shutdown.
  const atMost2s = <T>(work: Promise<T>) => Promise.race([work, new Promise((r) => setTimeout(r, 2000).unref())]);
  return {
    isWriter,
    poke: renewIfDue,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      clearInterval(adoptTimer);
      await atMost2s(renewing);
      // Handing the races on at once rather than after the leases expire.
      await atMost2s(leases.release([...writers]).catch(() => {}));
      writers.clear();
    },
  };
}
