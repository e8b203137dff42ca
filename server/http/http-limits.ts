// Per-client limits on the HTTP routes (express-rate-limit; counts in Redis with rate-limit-redis
// when several processes serve the event, so a client cannot multiply its budget by the number of
// processes). docs/SECURITY.md lists each limit and why it is set where it is.
//
// Three budgets:
// - credential failures per address: a wrong device token or organiser token. Past the budget an
//   address gets 429 for every credential it has not used successfully lately, before the
//   credential is even looked at, so a guessing loop learns nothing more; phones already working
//   from that address (many share one carrier address) keep working.
// - ingest per device: what one tracker app may send, keyed by its credential, not by address,
//   because a whole race may reach us through one stadium Wi-Fi or one carrier NAT.
// - organiser requests per address.
import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type RateLimitInfo, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { ErrorCodes, errorAck, httpStatusOf } from '../../shared/protocol.ts';
import { WorkingCredentials } from '../working-credentials.ts';

export interface HttpLimits {
  /** The window every budget below is counted over. */
  windowMs: number;
  /** Wrong device or organiser credentials one address may send per window. */
  credentialFailuresPerAddress: number;
  /** Requests one tracker app (one device credential) may send to /ingest per window. */
  ingestPerDevice: number;
  /** Requests one address may send to the organiser routes per window. */
  organiserPerAddress: number;
  /** How long a credential that worked from an address stays exempt from that address's block. */
  rememberWorkingCredentialMs: number;
}

export const defaultHttpLimits: HttpLimits = {
  windowMs: 60_000,
  credentialFailuresPerAddress: 30,
  // A phone at one fix a second sends 60 a minute; a Traccar Client buffer arrives in batches.
  ingestPerDevice: 600,
  organiserPerAddress: 1_200,
  rememberWorkingCredentialMs: 60 * 60_000,
};

/** Sends a raw command to Redis (ioredis' `call`). */
export type RedisCommand = (command: string, ...args: string[]) => Promise<unknown>;

export interface HttpLimiters {
  /**
   * Counts wrong credentials per address and blocks an address past its budget. Goes before the
   * route authenticates, after the body is parsed (tracker apps send their credential in it).
   */
  credentialFailures: RequestHandler;
  /** What one tracker app may send, keyed by its credential. */
  ingestPerDevice: RequestHandler;
  organiser: RequestHandler;
  /** Routes call this when a credential authenticated, so it stays usable from that address. */
  credentialWorked(req: Request): void;
}

/**
 * The credential a request carries, wherever its protocol puts it: a bearer token (organisers,
 * the runner page), HTTP Basic's password (OwnTracks), OsmAnd's `id`/`deviceid`, Traccar's
 * `device_id`. Null when it carries none.
 */
export function credentialOf(req: Request): string | null {
  const header = req.get('authorization') ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic) return Buffer.from(basic[1]!, 'base64').toString('utf8');
  const query = req.query as Record<string, unknown>;
  const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
  for (const value of [query['id'], query['deviceid'], body['id'], body['deviceid'], body['device_id']]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

export function createHttpLimiters(
  limits: HttpLimits,
  options: { redis?: RedisCommand; redisPrefix?: string; nowMs?: () => number; onRateLimited?: (surface: string) => void } = {},
): HttpLimiters {
  const nowMs = options.nowMs ?? Date.now;
  const storeFor = (name: string): { store?: Store } =>
    options.redis
      ? {
          store: new RedisStore({
            prefix: `${options.redisPrefix ?? 'race'}:rl:${name}:`,
            sendCommand: (command: string, ...args: string[]) => options.redis!(command, ...args) as Promise<number>,
          }),
        }
      : {};
  const refuse = (what: string, surface: string) => (req: Request, res: Response) => {
    options.onRateLimited?.(surface);
    const resetAtMs = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime() ?? nowMs() + limits.windowMs;
    const retryAfterSec = Math.max(1, Math.ceil((resetAtMs - nowMs()) / 1000));
    res.set('retry-after', String(retryAfterSec));
    res.status(httpStatusOf.RATE_LIMITED).json(errorAck(ErrorCodes.RATE_LIMITED, `${what}; retry in ${retryAfterSec} s`));
  };
  const common = {
    windowMs: limits.windowMs,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    // A limit that cannot be counted (Redis away) lets the request through: the route's own
    // store failure answers it, and tracking goes on.
    passOnStoreError: true,
  };

  const working = new WorkingCredentials(limits.rememberWorkingCredentialMs, nowMs);
  const worksFrom = (req: Request): boolean => {
    const credential = credentialOf(req);
    return credential !== null && working.worksFrom(req.ip ?? '', credential);
  };

  return {
    credentialFailures: rateLimit({
      ...common,
      ...storeFor('auth'),
      limit: limits.credentialFailuresPerAddress,
      identifier: 'credential-failures',
      // Only wrong credentials count: a request answered with anything but 401 is taken back.
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req: Request, res: Response) => res.statusCode !== 401,
      skip: worksFrom,
      handler: refuse('too many wrong credentials from this address', 'http-credentials'),
    }),
    ingestPerDevice: rateLimit({
      ...common,
      ...storeFor('ingest'),
      limit: limits.ingestPerDevice,
      identifier: 'ingest',
      // Requests without a credential are counted by the failure budget instead.
      skip: (req: Request) => credentialOf(req) === null,
      keyGenerator: (req: Request) => `device:${credentialOf(req) ?? ''}`,
      handler: refuse('this device sends faster than the server accepts', 'http-ingest'),
    }),
    organiser: rateLimit({
      ...common,
      ...storeFor('organiser'),
      limit: limits.organiserPerAddress,
      identifier: 'organiser',
      handler: refuse('too many organiser requests from this address', 'http-organiser'),
    }),
    credentialWorked: (req) => {
      const credential = credentialOf(req);
      if (credential !== null) working.worked(req.ip ?? '', credential);
    },
  };
}
