// Socket.IO edge. `/device`: runner devices send fixes and get an acknowledgement for each.
// `/`: spectators and organisers join races and receive one delta per race per tick.
// Handlers read as the pipeline they implement; errors become documented codes, never stack
// traces.
import type { Server as HttpServer } from 'node:http';
import { Server, type Namespace, type ServerOptions, type Socket } from 'socket.io';
import { z } from 'zod';
import {
  ErrorCodes,
  errorAck,
  okAck,
  type DeviceClientToServerEvents,
  type DeviceServerToClientEvents,
  type SpectatorClientToServerEvents,
  type SpectatorServerToClientEvents,
  type ErrorCode,
} from '../../shared/protocol.ts';
import type { OrganiserAuth } from '../access.ts';
import type { Clock } from '../core/clock.ts';
import type { ShareLinks } from '../share-links.ts';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import type { Logger } from '../logger.ts';
import type { DeviceIdentity, RaceService } from '../race-service.ts';
import { describeIssues, parseInput } from '../validation.ts';
import { clientAddressResolver, type TrustProxy } from '../client-address.ts';
import { CredentialGuard, EventBudget, bufferedBytes, defaultSocketLimits, type SocketLimits, type Verdict } from './socket-limits.ts';

interface DeviceSocketData {
  device: DeviceIdentity;
}
interface SpectatorSocketData {
  isOrganiser: boolean;
}
export type DeviceNamespace = Namespace<DeviceClientToServerEvents, DeviceServerToClientEvents, object, DeviceSocketData>;
/** Between server processes (through the Redis adapter): a race's writer sent a delta. */
export interface SpectatorServerSideEvents {
  /** The writer's delta for a race, base64 (the Redis adapters carry server-side events as JSON). */
  'race:tick': (raceId: string, seq: number, deltaBase64: string) => void;
}
export type SpectatorNamespace = Namespace<
  SpectatorClientToServerEvents,
  SpectatorServerToClientEvents,
  SpectatorServerSideEvents,
  SpectatorSocketData
>;

const ORGANISERS_ROOM = 'organisers';

/** Live links one connection may follow at once. */
export const MAX_FOLLOWS_PER_SOCKET = 8;

/** How often every socket's unsent output is checked against its cap. */
const BUFFER_CHECK_EVERY_MS = 1000;

/** A spectator may watch a few races at once; organisers any number. */
export const MAX_RACES_PER_SPECTATOR = 8;

function deviceRoom(participantId: string): string {
  return `device:${participantId}`;
}

export function raceRoom(raceId: string): string {
  return `race:${raceId}`;
}

const joinSchema = z.object({ raceId: z.string().min(1).max(64), key: z.string().max(256).optional() }).strict();
const leaveSchema = z.object({ raceId: z.string().min(1).max(64) }).strict();
const followSchema = z.object({ link: z.string().min(1).max(512) }).strict();

/** Room of the holders of one live link (so revoking it reaches them). */
function linkRoom(linkId: string): string {
  return `link:${linkId}`;
}

/** Room of those following one runner through any link. */
export function followRoom(raceId: string, participantId: string): string {
  return `follow:${raceId}:${participantId}`;
}

/** How many times faster than the wall clock the clock runs (a sped-up demo). */
function clockSpeed(clock: Clock): number {
  return 'speed' in clock && typeof clock.speed === 'number' ? clock.speed : 1;
}

/** An Error that Socket.IO passes to the client's `connect_error` with a code in `data`. */
function connectError(code: string, message: string): Error & { data: { code: string } } {
  return Object.assign(new Error(message), { data: { code } });
}

export function createSocketServer(
  httpServer: HttpServer,
  deps: {
    service: RaceService;
    organiserAuth: OrganiserAuth;
    logger: Logger;
    shareLinks: ShareLinks;
    clock: Clock;
    /** Socket.IO's Redis adapter when several processes serve the event; absent: in memory. */
    adapter?: ServerOptions['adapter'] | undefined;
    /** Where fixes go: the same pipeline as the tracker apps' HTTP requests. */
    ingest: IngestPipeline;
    limits?: SocketLimits;
    /** Told of every event refused for its client's budget (for /metrics). */
    onRateLimited?: (surface: string) => void;
    /** Which proxies' X-Forwarded-For to believe for a client's address (TRUST_PROXY). */
    trustProxy?: TrustProxy;
  },
): { io: Server; spectators: SpectatorNamespace; devices: DeviceNamespace; close(): void } {
  const { service, organiserAuth, logger, shareLinks, clock } = deps;
  const limits = deps.limits ?? defaultSocketLimits;
  const spectatorBudget = new EventBudget(limits.spectatorPerSecond, { points: limits.spectatorBurstPer10s, durationSec: 10 }, limits.closeAfterRefused, 'spectator');
  // (A device is known by its token, which an organiser can revoke; closing its connection would
  // only lose the answers to fixes it already sent, which it would send again.)
  const credentialGuard = new CredentialGuard(limits);
  const deviceBudget = new EventBudget(limits.devicePerSecond, { points: limits.deviceBurstPerMinute, durationSec: 60 }, Infinity, 'device');

  /** Closes a connection now, dropping what waits to be sent to it (a client that does not read would hold it for the close handshake). */
  const closeNow = (socket: { id: string; conn: unknown; disconnect(close: boolean): unknown }, why: string): void => {
    logger.warn({ socketId: socket.id }, why);
    socket.disconnect(true);
    const conn = socket.conn as { close?: (discard: boolean) => void; transport?: { socket?: { terminate?: () => void } } } | null;
    conn?.close?.(true);
    conn?.transport?.socket?.terminate?.();
  };

  /**
   * Runs an event's handler if the sender is within budget and reads what it is sent; else
   * answers RATE_LIMITED, and closes a socket that keeps going over budget or does not read.
   * The backlog is looked at again just before the handler runs: every event of one read passes
   * the first look before any of them has added to it.
   */
  const admit = (
    socket: { id: string; conn: unknown; disconnect(close: boolean): unknown },
    budget: EventBudget,
    key: string,
    reply: (r: unknown) => void,
    run: () => void,
  ): void => {
    const backlogged = (): boolean => {
      const bytes = bufferedBytes(socket.conn);
      if (bytes > limits.hardMaxBufferedBytes) closeNow(socket, 'closing a connection that does not read what it is sent');
      return bytes > limits.maxBufferedBytes;
    };
    if (backlogged()) {
      deps.onRateLimited?.('socket-backlog');
      reply(errorAck(ErrorCodes.RATE_LIMITED, 'read what was sent first'));
      return;
    }
    budget.take(key).then(
      (verdict: Verdict) => {
        if (verdict.ok) {
          if (!backlogged()) {
            // Whatever goes wrong in a handler is answered, never left as an unanswered request.
            try {
              return run();
            } catch (cause) {
              logger.error({ err: cause }, 'socket event failed');
              return reply(errorAck(ErrorCodes.INTERNAL, 'the request could not be processed'));
            }
          }
          deps.onRateLimited?.('socket-backlog');
          return reply(errorAck(ErrorCodes.RATE_LIMITED, 'read what was sent first'));
        }
        deps.onRateLimited?.(`socket-${budget.name}`);
        reply(errorAck(ErrorCodes.RATE_LIMITED, `too many requests; retry in ${verdict.retryAfterMs} ms`));
        if (verdict.close) closeNow(socket, 'closing a connection that keeps sending over its limit');
      },
      (cause: unknown) => {
        logger.error({ err: cause }, 'rate limiter failed');
        reply(errorAck(ErrorCodes.INTERNAL, 'the request could not be processed'));
      },
    );
  };

  const io = new Server(httpServer, {
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
    serveClient: false,
    // Compression costs far more memory per socket than it saves on small binary deltas.
    perMessageDeflate: false,
    maxHttpBufferSize: 64 * 1024,
  });
  // The handshake request is kept per socket by default; nothing here needs it afterwards.
  io.engine.on('connection', (raw: { request: unknown }) => {
    raw.request = null;
  });

  const devices: DeviceNamespace = io.of('/device');
  const clientAddress = clientAddressResolver(deps.trustProxy ?? false);
  /**
   * A token from a handshake, checked only when its address is not guessing (CredentialGuard):
   * the connection's error when it is refused, null when `check` finds what the token opens.
   */
  const checkCredential = async <T>(
    socket: { handshake: Socket['handshake'] },
    token: unknown,
    check: () => T | null,
    wrong: ReturnType<typeof connectError>,
  ): Promise<{ found: T } | { refused: ReturnType<typeof connectError> }> => {
    const address = clientAddress(socket.handshake.address, socket.handshake.headers);
    const text = typeof token === 'string' ? token : '';
    if (await credentialGuard.blocked(address, text)) {
      deps.onRateLimited?.('socket-credentials');
      return { refused: connectError(ErrorCodes.RATE_LIMITED, 'too many wrong tokens from this address; retry in a minute') };
    }
    const found = check();
    if (found === null) {
      await credentialGuard.failed(address);
      return { refused: wrong };
    }
    credentialGuard.worked(address, text);
    return { found };
  };

  devices.use((socket, next) => {
    const token = (socket.handshake.auth as { deviceToken?: unknown }).deviceToken;
    void checkCredential(socket, token, () => service.authenticateDevice(token), connectError(ErrorCodes.UNKNOWN_DEVICE, 'unknown device token')).then((result) => {
      if ('refused' in result) return next(result.refused);
      socket.data.device = result.found;
      next();
    });
  });
  // A revoked or replaced token ends the connections that were opened with it.
  service.onDeviceTokenDropped((participantId) => devices.in(deviceRoom(participantId)).disconnectSockets(true));
  devices.on('connection', (socket) => {
    const { device } = socket.data;
    void socket.join(deviceRoom(device.participantId));
    socket.emit('welcome', { participantId: device.participantId, raceId: device.raceId, bib: device.bib, name: device.name });
    // (An SOS is never refused for being over budget: it is the one message that must get through.)
    socket.on('sos', (request: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      void service.raiseSos(device, request).then(reply, () => reply(errorAck(ErrorCodes.UNAVAILABLE, 'the SOS could not be stored; send it again')));
    });
    socket.on('position', (fix: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      admit(socket, deviceBudget, device.participantId, reply, () => {
        void deps.ingest.fix(device, fix).then(reply);
      });
    });
  });

  const spectators: SpectatorNamespace = io.of('/');
  spectators.use((socket, next) => {
    const token = (socket.handshake.auth as { organiserToken?: unknown }).organiserToken;
    // Spectators without a token are not counted, nor held back by others' guessing.
    if (token === undefined) {
      socket.data.isOrganiser = false;
      return next();
    }
    const wrong = connectError(ErrorCodes.UNAUTHORIZED, 'invalid organiser token');
    void checkCredential(socket, token, () => (organiserAuth.isOrganiserToken(token) ? true : null), wrong).then((result) => {
      if ('refused' in result) return next(result.refused);
      socket.data.isOrganiser = true;
      next();
    });
  });
  // Organisers hear every alert wherever they are connected.
  // (Every process applies every alert change from the race's log, so each tells its own
  // organisers only: through the adapter each would hear it once per process.)
  service.onAlert((alert) => spectators.local.to(ORGANISERS_ROOM).emit('alert', alert));
  spectators.on('connection', (socket) => {
    if (socket.data.isOrganiser) void socket.join(ORGANISERS_ROOM);
    socket.once('disconnect', () => spectatorBudget.forget(socket.id));
    socket.on('race:join', (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return; // a join without an answer is useless to the client
      const reply = ack as (r: unknown) => void;
      admit(socket, spectatorBudget, socket.id, reply, () => reply(joinRace(socket, request)));
    });
    socket.on('follow:join', (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = ack as (r: unknown) => void;
      admit(socket, spectatorBudget, socket.id, reply, () => reply(followRunner(socket, request)));
    });
    socket.on('race:leave', (request: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      admit(socket, spectatorBudget, socket.id, reply, () => {
        const parsed = parseInput(leaveSchema, request);
        if (!parsed.success) {
          reply(errorAck(ErrorCodes.MALFORMED_REQUEST, describeIssues(parsed.error).join('; ')));
          return;
        }
        void socket.leave(raceRoom(parsed.data.raceId));
        reply(okAck(null));
      });
    });
  });

  // Deltas go to rooms, whatever a socket asked: a socket that stops reading them is found here.
  // Over the cap and not shrinking since the last look: not reading.
  const backlogAtLastLook = new Map<string, number>();
  const sweep = setInterval(() => {
    const seen = new Set<string>();
    for (const namespace of [spectators, devices] as const) {
      for (const socket of namespace.sockets.values()) {
        const bytes = bufferedBytes(socket.conn);
        if (bytes <= limits.maxBufferedBytes) continue;
        const before = backlogAtLastLook.get(socket.id);
        if (bytes > limits.hardMaxBufferedBytes || (before !== undefined && bytes >= before)) {
          closeNow(socket, 'closing a connection that does not read what it is sent');
        } else {
          backlogAtLastLook.set(socket.id, bytes);
          seen.add(socket.id);
        }
      }
    }
    for (const id of backlogAtLastLook.keys()) if (!seen.has(id)) backlogAtLastLook.delete(id);
  }, BUFFER_CHECK_EVERY_MS);
  sweep.unref();

  /** Per socket: the links it follows through, with the runner's room and the expiry timer. */
  const follows = new Map<string, Map<string, { runnerRoom: string; timer: NodeJS.Timeout }>>();

  /** Stops one link for one socket; the runner's room is left only if no other link needs it. */
  const endFollow = (socketId: string, linkRoomName: string, reason: { code: ErrorCode; message: string }): void => {
    const socket = spectators.sockets.get(socketId);
    const mine = follows.get(socketId);
    const entry = mine?.get(linkRoomName);
    if (!socket || !mine || !entry) return;
    clearTimeout(entry.timer);
    mine.delete(linkRoomName);
    socket.emit('follow:ended', reason);
    void socket.leave(linkRoomName);
    if (![...mine.values()].some((other) => other.runnerRoom === entry.runnerRoom)) void socket.leave(entry.runnerRoom);
  };

  // A revoked link ends what its holders were following.
  shareLinks.onRevoked((linkId) => {
    const room = linkRoom(linkId);
    for (const socketId of [...(spectators.adapter.rooms.get(room) ?? [])]) {
      endFollow(socketId, room, { code: ErrorCodes.LINK_REVOKED, message: 'this link was revoked' });
    }
  });

  function followRunner(
    socket: Socket<SpectatorClientToServerEvents, SpectatorServerToClientEvents, SpectatorServerSideEvents, SpectatorSocketData>,
    request: unknown,
  ) {
    const parsed = parseInput(followSchema, request);
    if (!parsed.success) return errorAck(ErrorCodes.MALFORMED_REQUEST, describeIssues(parsed.error).join('; '));
    const nowMs = clock.nowMs();
    const checked = shareLinks.check(parsed.data.link, nowMs);
    if (!checked.ok) return errorAck(checked.code, checked.message);
    const { linkId, raceId, participantId, expiresAtMs } = checked.claims;
    const snapshot = service.followSnapshot(raceId, participantId, expiresAtMs);
    if (!snapshot) return errorAck(ErrorCodes.LINK_INVALID, 'the runner of this link is no longer in its race');
    let mine = follows.get(socket.id);
    if (!mine) {
      mine = new Map();
      follows.set(socket.id, mine);
      socket.once('disconnect', () => {
        for (const entry of follows.get(socket.id)?.values() ?? []) clearTimeout(entry.timer);
        follows.delete(socket.id);
      });
    }
    const room = linkRoom(linkId);
    if (!mine.has(room) && mine.size >= MAX_FOLLOWS_PER_SOCKET) {
      return errorAck(ErrorCodes.RATE_LIMITED, `follow at most ${MAX_FOLLOWS_PER_SOCKET} links at once`);
    }
    clearTimeout(mine.get(room)?.timer);
    const runnerRoom = followRoom(raceId, participantId);
    void socket.join([room, runnerRoom]);
    // The link stops working at its expiry, for those already following too. The clock may run
    // faster than the wall (a sped-up demo), so the wait is measured in its time.
    const timer = setTimeout(
      () => endFollow(socket.id, room, { code: ErrorCodes.LINK_EXPIRED, message: 'this link has expired' }),
      Math.min(Math.max(0, expiresAtMs - nowMs) / clockSpeed(clock), 2 ** 31 - 1),
    );
    mine.set(room, { runnerRoom, timer });
    return okAck(snapshot);
  }

  function joinRace(
    socket: Socket<SpectatorClientToServerEvents, SpectatorServerToClientEvents, SpectatorServerSideEvents, SpectatorSocketData>,
    request: unknown,
  ) {
    const parsed = parseInput(joinSchema, request);
    if (!parsed.success) return errorAck(ErrorCodes.MALFORMED_REQUEST, describeIssues(parsed.error).join('; '));
    const race = service.findViewableRace(parsed.data.raceId, { key: parsed.data.key, isOrganiser: socket.data.isOrganiser });
    if (!race) return errorAck(ErrorCodes.UNKNOWN_RACE, 'no such race, or it is private and the key is missing or wrong');
    const room = raceRoom(race.raceId);
    const joined = [...socket.rooms].filter((r) => r.startsWith('race:') && r !== room);
    if (!socket.data.isOrganiser && joined.length >= MAX_RACES_PER_SPECTATOR) {
      return errorAck(ErrorCodes.RATE_LIMITED, `watch at most ${MAX_RACES_PER_SPECTATOR} races at once; leave one first`);
    }
    // Joining and taking the snapshot happen in the same turn of the event loop, so the next
    // delta this socket receives is exactly snapshot.seq + 1.
    void socket.join(room);
    return okAck(service.sharedSnapshot(race));
  }

  return { io, spectators, devices, close: () => clearInterval(sweep) };
}
