// Starts the real server (HTTP, Socket.IO, ticker) on port 0 for a test, with the test's own
// event, clock and stores.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import { vi } from 'vitest';
import type {
  DeviceClientToServerEvents,
  DeviceServerToClientEvents,
  SpectatorClientToServerEvents,
  SpectatorServerToClientEvents,
} from '../../shared/protocol.ts';
import { createApplication, type Application } from '../../server/app.ts';
import { systemClock, type Clock } from '../../server/core/clock.ts';
import type { BasemapSetting } from '../../server/basemap.ts';
import type { LogRetention } from '../../server/log-trimmer.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { silentLogger, type Logger } from '../../server/logger.ts';
import { createMemoryStores, type Stores } from '../../server/ports/stores.ts';
import { RaceService } from '../../server/race-service.ts';
import { ShareLinks } from '../../server/share-links.ts';
import type { SocketLimits } from '../../server/realtime/socket-limits.ts';
import type { HttpLimits, RedisCommand } from '../../server/http/http-limits.ts';

export const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));
export const TEST_ORGANISER_TOKEN = 'test-organiser-token-0123456789';

export interface TestServer {
  url: string;
  port: number;
  service: RaceService;
  app: Application;
  stores: Stores;
  shareLinks: ShareLinks;
  close(): Promise<void>;
}

export async function startTestServer(options: {
  event: LoadedEvent;
  clock?: Clock;
  tickMs?: number;
  defaultStartMs?: number;
  basemap?: BasemapSetting;
  stores?: Stores;
  shareLinks?: ShareLinks;
  socketLimits?: SocketLimits;
  httpLimits?: HttpLimits;
  /** Where the server logs (default: nowhere). */
  logger?: Logger;
  rateLimitRedis?: { command: RedisCommand; keyPrefix: string };
  /** The shared log's retention behind checkpoints (server/log-trimmer.ts). */
  logRetention?: LogRetention;
}): Promise<TestServer> {
  const clock = options.clock ?? systemClock;
  const stores = options.stores ?? createMemoryStores();
  const service = await RaceService.create({
    event: options.event,
    stores,
    clock,
    logger: options.logger ?? silentLogger,
    defaultStartMs: options.defaultStartMs ?? clock.nowMs(),
    ...(options.logRetention ? { logRetention: options.logRetention } : {}),
  });
  const shareLinks = options.shareLinks ?? new ShareLinks(randomBytes(32));
  const httpServer = createServer();
  const app = createApplication(httpServer, {
    service,
    clock,
    logger: options.logger ?? silentLogger,
    organiserToken: TEST_ORGANISER_TOKEN,
    tickMs: options.tickMs ?? 50,
    ...(options.basemap ? { basemap: options.basemap } : {}),
    webRoot: WEB_ROOT,
    shareLinks,
    ...(options.socketLimits ? { socketLimits: options.socketLimits } : {}),
    ...(options.httpLimits ? { httpLimits: options.httpLimits } : {}),
    ...(options.rateLimitRedis ? { rateLimitRedis: options.rateLimitRedis } : {}),
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    service,
    app,
    stores,
    shareLinks,
    close: () => app.close(),
  };
}

export type DeviceSocket = Socket<DeviceServerToClientEvents, DeviceClientToServerEvents>;
export type SpectatorSocket = Socket<SpectatorServerToClientEvents, SpectatorClientToServerEvents>;

export function connectDevice(url: string, deviceToken: string): DeviceSocket {
  return connect(`${url}/device`, { auth: { deviceToken }, transports: ['websocket'], reconnection: false, forceNew: true });
}

export function connectSpectator(url: string, auth: { organiserToken?: string } = {}): SpectatorSocket {
  return connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
}

/** Resolves when the socket connects; rejects with the server's error (and its code). */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

/**
 * Every delta the server has to send is sent, and whatever it sent this socket before has
 * reached it: the ticker is driven once, then an answered request goes through the same
 * connection (one connection delivers in order). The barrier to wait on before asserting that
 * something did not arrive.
 */
export async function deliveredTo(server: TestServer, socket: SpectatorSocket): Promise<void> {
  await server.app.ticker.tick();
  await socket.emitWithAck('race:leave', { raceId: 'barrier' });
}

/** Resolves once `condition` holds (checked every 20 ms), or fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error('timed out waiting');
    },
    { timeout: timeoutMs, interval: 20 },
  );
}
