// What an operator watches on race day, in Prometheus' format (prom-client): fixes by outcome,
// back-pressure, tick lag, delta bytes, sockets, races written here, Redis round-trip, and
// Node's own figures (event-loop lag, heap, GC). docs/SECURITY.md says what to alert on.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  /** Fixes stored and not yet applied (shared log), and the bound past which fixes are refused. */
  fixesInFlight(): number;
  fixesInFlightLimit: number;
  /** Sockets connected to this process, per namespace. */
  socketsByNamespace(): Record<string, number>;
  /** Races whose deltas this process sends (all of them without Redis). */
  racesWritten(): number;
  /** Fixes stored and acknowledged through this process, and fixes applied to runners here (each by one process: the race's writer). */
  fixCounts(): { stored: number; applied: number };
  /** Round-trip to the store in seconds, or null without Redis. */
  storeRoundTripSec(): Promise<number | null>;
}

export interface Metrics {
  registry: Registry;
  fixAnswered(outcome: string): void;
  tickLag(lagMs: number): void;
  deltaSent(bytes: number): void;
  rateLimited(surface: string): void;
  /** The exposition, for GET /metrics. */
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(sources: MetricsSources, options: { collectNodeMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectNodeMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const fixes = new Counter({
    name: 'racetrack_fixes_total',
    help: 'Fixes answered, by outcome: applied, not_applied (stored; older than the last or a repeat) or the error code',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'racetrack_fixes_in_flight',
    help: 'Fixes stored and waiting to be applied from the shared log',
    registers: [registry],
    collect() {
      this.set(sources.fixesInFlight());
    },
  });
  new Gauge({ name: 'racetrack_fixes_in_flight_limit', help: 'Fixes in flight past which new ones are answered UNAVAILABLE', registers: [registry] }).set(
    sources.fixesInFlightLimit,
  );
  const tickLag = new Histogram({
    name: 'racetrack_tick_lag_seconds',
    help: 'How late a tick slot ran after its due time',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const deltaBytes = new Counter({ name: 'racetrack_delta_bytes_total', help: 'Bytes of race deltas encoded and sent to rooms', registers: [registry] });
  const deltas = new Counter({ name: 'racetrack_deltas_total', help: 'Race deltas sent', registers: [registry] });
  const rateLimited = new Counter({
    name: 'racetrack_rate_limited_total',
    help: 'Requests and events refused for a client over its budget, by surface',
    labelNames: ['surface'],
    registers: [registry],
  });
  new Gauge({
    name: 'racetrack_sockets',
    help: 'Socket.IO connections on this process, by namespace',
    labelNames: ['namespace'],
    registers: [registry],
    collect() {
      for (const [namespace, count] of Object.entries(sources.socketsByNamespace())) this.set({ namespace }, count);
    },
  });
  // Counters kept by the race service, read when scraped. Summed over processes, applied over
  // stored is 1.00 when each fix is applied once (a take-over applies the fixes since the last
  // checkpoint again).
  new Counter({
    name: 'racetrack_fixes_stored_total',
    help: 'Fixes stored in the race log and acknowledged through this process',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.fixCounts().stored);
    },
  });
  new Counter({
    name: 'racetrack_fixes_applied_total',
    help: "Fixes applied to runners by this process (the race's writer applies every fix of its race, whichever process stored it)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.fixCounts().applied);
    },
  });
  new Gauge({
    name: 'racetrack_races_written',
    help: 'Races whose deltas this process sends',
    registers: [registry],
    collect() {
      this.set(sources.racesWritten());
    },
  });
  new Gauge({
    name: 'racetrack_store_round_trip_seconds',
    help: 'Round-trip of a PING to Redis when scraped (absent without Redis)',
    registers: [registry],
    async collect() {
      const seconds = await sources.storeRoundTripSec();
      if (seconds !== null) this.set(seconds);
    },
  });
  return {
    registry,
    fixAnswered: (outcome) => fixes.inc({ outcome }),
    tickLag: (lagMs) => tickLag.observe(Math.max(0, lagMs) / 1000),
    deltaSent: (bytes) => {
      deltas.inc();
      deltaBytes.inc(bytes);
    },
    rateLimited: (surface) => rateLimited.inc({ surface }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
