// Storage ports. Each stateful dependency is an interface with an in-memory implementation (the
// embedded default) and a Redis one (redis-stores.ts); test/contract/stores.contract.ts runs the
// same assertions against both.
import type { Fix, RunnerState } from '../core/race-tracker.ts';

/** A fix as it is logged: who sent it and when it arrived, besides the fix itself. */
export interface LoggedPing {
  raceId: string;
  participantId: string;
  receivedAtMs: number;
  fix: Fix;
}

/**
 * Append-only log of every accepted ping, per race. A ping is appended before it is
 * acknowledged, so an acknowledged ping can always be replayed.
 */
export interface PingLog {
  append(ping: LoggedPing): Promise<void>;
  /** Pings of a race in the order they were appended. */
  read(raceId: string): Promise<LoggedPing[]>;
  count(raceId: string): Promise<number>;
}

/** Latest state of each runner, so another process (or this one, restarted) can continue. */
export interface RunnerStateStore {
  save(raceId: string, state: RunnerState): Promise<void>;
  loadRace(raceId: string): Promise<RunnerState[]>;
}

export interface Stores {
  pingLog: PingLog;
  runnerStates: RunnerStateStore;
  /** Whether the stores answer now (for /healthz). */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

export class MemoryPingLog implements PingLog {
  private readonly byRace = new Map<string, LoggedPing[]>();

  /**
   * @param maxPingsPerRace the oldest pings are forgotten past this, so a long event cannot exhaust
   *   memory; the Redis log keeps everything.
   */
  constructor(private readonly maxPingsPerRace = 1_000_000) {}

  async append(ping: LoggedPing): Promise<void> {
    let pings = this.byRace.get(ping.raceId);
    if (!pings) {
      pings = [];
      this.byRace.set(ping.raceId, pings);
    }
    pings.push({ ...ping, fix: { ...ping.fix } });
    // Trim in batches so a full log does not shift a million entries on every ping.
    if (pings.length > this.maxPingsPerRace * 1.1) pings.splice(0, pings.length - this.maxPingsPerRace);
  }

  async read(raceId: string): Promise<LoggedPing[]> {
    return structuredClone(this.byRace.get(raceId) ?? []);
  }

  async count(raceId: string): Promise<number> {
    return this.byRace.get(raceId)?.length ?? 0;
  }
}

export class MemoryRunnerStateStore implements RunnerStateStore {
  private readonly byRace = new Map<string, Map<string, RunnerState>>();

  async save(raceId: string, state: RunnerState): Promise<void> {
    let states = this.byRace.get(raceId);
    if (!states) {
      states = new Map();
      this.byRace.set(raceId, states);
    }
    // A copy: the tracker keeps mutating its own object.
    states.set(state.participantId, structuredClone(state));
  }

  async loadRace(raceId: string): Promise<RunnerState[]> {
    return structuredClone([...(this.byRace.get(raceId)?.values() ?? [])]);
  }
}

export function createMemoryStores(): Stores {
  return {
    pingLog: new MemoryPingLog(),
    runnerStates: new MemoryRunnerStateStore(),
    isHealthy: async () => true,
    close: async () => {},
  };
}
