// Wires the edges to the service: `createApplication(httpServer, components)`. Everything it needs
// is passed in, so tests build the whole server on port 0 with their own event, clock and stores.
import type { Server as HttpServer } from 'node:http';
import type { Server, ServerOptions } from 'socket.io';
import { basemapForClient, type BasemapSetting } from './basemap.ts';
import { startCoordinator, type Coordinator } from './cluster.ts';
import { createOrganiserAuth } from './access.ts';
import type { Clock } from './core/clock.ts';
import { createHttpLimiters, defaultHttpLimits, type HttpLimits, type RedisCommand } from './http/http-limits.ts';
import { createHttpApp } from './http/routes.ts';
import type { Logger } from './logger.ts';
import { createCourseParser } from './event/course-parser.ts';
import { createMetrics } from './metrics.ts';
import { createIngestPipeline } from './ingest/pipeline.ts';
import { RaceService } from './race-service.ts';
import type { ShareLinks } from './share-links.ts';
import type { SocketLimits } from './realtime/socket-limits.ts';
import { createSocketServer, followRoom, raceRoom, type SpectatorNamespace } from './realtime/socket-server.ts';
import { startTicker, type Ticker } from './realtime/ticker.ts';

export interface AppComponents {
  service: RaceService;
  clock: Clock;
  logger: Logger;
  organiserToken: string;
  tickMs: number;
  /** What the maps draw under the courses (default: nothing, a plain background). */
  basemap?: BasemapSetting;
  webRoot: string | null;
  shareLinks: ShareLinks;
  /** The address phones reach the server at, for the setup page; absent: the page's own. */
  publicUrl?: string | null;
  /** Socket.IO's Redis adapter, with shared stores (several processes). */
  adapter?: ServerOptions['adapter'];
  /** Lease renewal period, for tests of take-overs (default: a third of the lease's lifetime). */
  leaseRenewEveryMs?: number;
  /** Express's 'trust proxy': which proxies' X-Forwarded-For to believe (default: none). */
  trustProxy?: false | number | string;
  /** What one client may send over HTTP (default: `defaultHttpLimits`). */
  httpLimits?: HttpLimits;
  /** Redis for the HTTP budgets' counts, shared by every process (absent: this process's memory). */
  rateLimitRedis?: { command: RedisCommand; keyPrefix: string };
  /** A bearer token for GET /metrics besides the organiser token (a scraper need not be an organiser). */
  metricsToken?: string | null;
  /** What one connection may send and be sent (default: `defaultSocketLimits`). */
  socketLimits?: SocketLimits;
}

export interface Application {
  io: Server;
  spectators: SpectatorNamespace;
  ticker: Ticker;
  coordinator: Coordinator;
  close(): Promise<void>;
}

export function createApplication(httpServer: HttpServer, components: AppComponents): Application {
  const { service, clock, logger, tickMs } = components;
  const organiserAuth = createOrganiserAuth(components.organiserToken);
  const basemap = components.basemap ?? { kind: 'none' };
  const clientConfig = { basemap: basemapForClient(basemap), publicUrl: components.publicUrl ?? null, tickMs };
  let ready = true;
  // Sources read when /metrics is scraped; the sockets and the coordinator exist by then.
  let io: Server | null = null;
  let coordinator: Coordinator | null = null;
  const metrics = createMetrics({
    fixesInFlight: () => service.fixesInFlight,
    fixesInFlightLimit: RaceService.MAX_PINGS_IN_FLIGHT,
    socketsByNamespace: () => ({ spectators: io?.of('/').sockets.size ?? 0, devices: io?.of('/device').sockets.size ?? 0 }),
    racesWritten: () => service.raceIds().filter((raceId) => coordinator?.isWriter(raceId) ?? false).length,
    fixCounts: () => service.fixCounts,
    storeRoundTripSec: () => service.stores.roundTripSec(),
  });
  service.onFixAnswered(metrics.fixAnswered);
  const courseParser = createCourseParser();
  let ticker: Ticker | null = null;
  // One pipeline for every edge's fixes: each pokes the ticker and the lease renewals.
  const ingest = createIngestPipeline({
    service,
    logger,
    onFix: () => {
      ticker?.poke();
      coordinator?.poke();
    },
  });
  const app = createHttpApp({
    ingest,
    service,
    shareLinks: components.shareLinks,
    organiserAuth,
    logger,
    clientConfig,
    basemap,
    clock,
    webRoot: components.webRoot,
    isReady: () => ready,
    metrics,
    parseLine: courseParser.parse,
    metricsToken: components.metricsToken ?? null,
    trustProxy: components.trustProxy ?? false,
    limits: createHttpLimiters(components.httpLimits ?? defaultHttpLimits, {
      ...(components.rateLimitRedis ? { redis: components.rateLimitRedis.command, redisPrefix: components.rateLimitRedis.keyPrefix } : {}),
      onRateLimited: metrics.rateLimited,
    }),
  });
  httpServer.on('request', app);
  const sockets = createSocketServer(httpServer, {
    ingest,
    service,
    organiserAuth,
    logger,
    shareLinks: components.shareLinks,
    clock,
    adapter: components.adapter,
    ...(components.socketLimits ? { limits: components.socketLimits } : {}),
    trustProxy: components.trustProxy ?? false,
    onRateLimited: metrics.rateLimited,
  });
  io = sockets.io;
  const { spectators } = sockets;
  coordinator = startCoordinator({
    service,
    stores: service.stores,
    logger,
    ...(components.leaseRenewEveryMs !== undefined ? { renewEveryMs: components.leaseRenewEveryMs } : {}),
  });
  // (Other processes share the event only through the Redis adapter: without one there is nobody to tell.)
  ticker = startTicker({ service, spectators, coordinator, clock, tickMs, logger, metrics, otherProcesses: components.adapter !== undefined });
  service.onRaceChanged((change) => {
    // The race's room and whoever follows one of its runners through a live link.
    const followers = service.race(change.raceId)?.tracker.everParticipants.map((p) => followRoom(change.raceId, p.participantId)) ?? [];
    // Every process applies the change from the race's log and tells its own sockets; sent
    // through a Redis adapter it would reach each socket once per process.
    spectators.local.to([raceRoom(change.raceId), ...followers]).emit('race:changed', change);
    if (change.what === 'access') {
      // Who may watch changed: everyone but organisers joins again, with the key if they have it.
      for (const socketId of [...(spectators.adapter.rooms.get(raceRoom(change.raceId)) ?? [])]) {
        const socket = spectators.sockets.get(socketId);
        if (socket && !socket.data.isOrganiser) void socket.leave(raceRoom(change.raceId));
      }
    }
  });
  const server = io;
  const writer = coordinator;
  return {
    io: server,
    spectators,
    ticker,
    coordinator: writer,
    close: async () => {
      ready = false;
      ticker.stop();
      sockets.close();
      await writer.stop();
      await courseParser.close();
      // Closes every socket and the HTTP server it is attached to.
      await server.close();
    },
  };
}
