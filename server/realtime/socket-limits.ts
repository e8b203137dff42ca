// What one connection may ask of the server. Every event a socket sends costs points from a
// budget that refills over time (rate-limiter-flexible, in this process's memory: a socket lives
// on one process); an event over budget is answered RATE_LIMITED and does nothing. A socket that
// keeps sending over budget, or that does not read what it is sent, is closed: otherwise one
// anonymous client could make the server hold gigabytes of replies for it (docs/SECURITY.md).
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { WorkingCredentials } from '../working-credentials.ts';

export interface SocketLimits {
  /** Spectator events (joins, follows, leaves): sustained per second, and a burst per 10 s on top. */
  spectatorPerSecond: number;
  spectatorBurstPer10s: number;
  /** Device events (positions, SOS), per device whatever its connections: per second, and a burst per minute. */
  devicePerSecond: number;
  deviceBurstPerMinute: number;
  /** Spectator events refused in a row after which the socket is closed (devices are not closed). */
  closeAfterRefused: number;
  /**
   * Bytes waiting to be written to one socket: past `maxBufferedBytes` it is sent nothing more
   * that it asks for, and closed if its backlog has not shrunk a second later (a client on a slow
   * link reading a big race's snapshot is still reading); past `hardMaxBufferedBytes` it is
   * closed at once.
   */
  maxBufferedBytes: number;
  hardMaxBufferedBytes: number;
  /**
   * Wrong device or organiser tokens one address may present at connection per window; past it
   * the address may connect only with a token that already worked from it (as over HTTP).
   */
  credentialFailuresPerAddress: number;
  credentialWindowMs: number;
}

export const defaultSocketLimits: SocketLimits = {
  // A page joins a race or two, follows a link, and re-joins everything after a reconnect.
  spectatorPerSecond: 2,
  spectatorBurstPer10s: 20,
  // A phone sends a fix a second at most; one back from a tunnel or a flight-mode spell sends
  // what it kept (ten minutes at 1 Hz) at once.
  devicePerSecond: 10,
  deviceBurstPerMinute: 1200,
  closeAfterRefused: 100,
  // A minute of deltas, or part of a big race's snapshot (10,000 runners: 2.4 MB).
  maxBufferedBytes: 1024 * 1024,
  hardMaxBufferedBytes: 32 * 1024 * 1024,
  credentialFailuresPerAddress: 30,
  credentialWindowMs: 60_000,
};

/** How long a token that worked from an address stays usable there while the address is blocked. */
const REMEMBER_WORKING_MS = 60 * 60_000;

/**
 * Wrong tokens per address at connection, the socket side of server/http/http-limits.ts. In this
 * process's memory: a guessing client spread over several processes gets one budget on each.
 */
export class CredentialGuard {
  private readonly failures: RateLimiterMemory;
  private readonly working: WorkingCredentials;

  constructor(
    private readonly limits: Pick<SocketLimits, 'credentialFailuresPerAddress' | 'credentialWindowMs'>,
    nowMs: () => number = Date.now,
  ) {
    this.working = new WorkingCredentials(REMEMBER_WORKING_MS, nowMs);
    this.failures = new RateLimiterMemory({
      keyPrefix: 'credential-failures',
      points: limits.credentialFailuresPerAddress,
      duration: Math.max(1, Math.round(limits.credentialWindowMs / 1000)),
    });
  }

  /** Whether a connection from `address` with `token` is refused before the token is looked at. */
  async blocked(address: string, token: string): Promise<boolean> {
    if (this.working.worksFrom(address, token)) return false;
    const record = await this.failures.get(address);
    return record !== null && record.consumedPoints >= this.limits.credentialFailuresPerAddress;
  }

  async failed(address: string): Promise<void> {
    await this.failures.penalty(address, 1);
  }

  worked(address: string, token: string): void {
    this.working.worked(address, token);
  }
}

export type Verdict = { ok: true } | { ok: false; retryAfterMs: number; close: boolean };

/**
 * Budgets by key (a socket id, a participant id), with the count of refusals in a row. The
 * verdicts of one key come in the order its events came (a device's fixes must not be reordered:
 * a fix handled after a newer one is stale), whichever of the two limiters answers.
 */
export class EventBudget {
  private readonly limiter: BurstyRateLimiter;
  private readonly refusedInARow = new Map<string, number>();
  /** Per key, the last verdict still to come. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    perSecond: number,
    burst: { points: number; durationSec: number },
    private readonly closeAfterRefused: number,
    readonly name: string,
  ) {
    this.limiter = new BurstyRateLimiter(
      new RateLimiterMemory({ keyPrefix: `${name}:rate`, points: perSecond, duration: 1 }),
      new RateLimiterMemory({ keyPrefix: `${name}:burst`, points: burst.points, duration: burst.durationSec }),
    );
  }

  take(key: string): Promise<Verdict> {
    const before = this.tails.get(key);
    const verdict = before ? before.then(() => this.consume(key)) : this.consume(key);
    const tail = verdict.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return verdict;
  }

  private async consume(key: string): Promise<Verdict> {
    try {
      await this.limiter.consume(key);
      this.refusedInARow.delete(key);
      return { ok: true };
    } catch (cause) {
      if (!(cause instanceof RateLimiterRes)) throw cause;
      const refused = (this.refusedInARow.get(key) ?? 0) + 1;
      this.refusedInARow.set(key, refused);
      return { ok: false, retryAfterMs: Math.max(0, Math.ceil(cause.msBeforeNext)), close: refused >= this.closeAfterRefused };
    }
  }

  /** Forgets a key's refusals (its socket has gone); the points expire by themselves. */
  forget(key: string): void {
    this.refusedInARow.delete(key);
  }
}

/**
 * Bytes written to a socket and not yet sent to the client: the WebSocket's buffer, or the
 * packets a long-polling client has not fetched. Read from engine.io's connection, whose types do
 * not expose these; anything unexpected counts as nothing buffered.
 */
export function bufferedBytes(connection: unknown): number {
  const conn = connection as { writeBuffer?: unknown; transport?: { socket?: { bufferedAmount?: unknown } } } | null;
  if (!conn) return 0;
  let bytes = 0;
  const wsBuffered = conn.transport?.socket?.bufferedAmount;
  if (typeof wsBuffered === 'number') bytes += wsBuffered;
  if (Array.isArray(conn.writeBuffer)) {
    for (const packet of conn.writeBuffer as Array<{ data?: unknown }>) {
      const data = packet?.data;
      if (typeof data === 'string') bytes += data.length;
      else if (data instanceof Uint8Array) bytes += data.byteLength;
    }
  }
  return bytes;
}
