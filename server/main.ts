// The composition root: reads the configuration, loads the event, picks the stores, starts
// listening and, for the demo, the simulated runners.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startDemoSimulation } from './demo/simulated-runners.ts';
import { createApplication } from './app.ts';
import { BasemapError, checkPmtilesArchive, describeBasemap } from './basemap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { scaledClock } from './core/clock.ts';
import { EventFileError, loadEventFile } from './event/event-file.ts';
import { createLogger } from './logger.ts';
import { Redis } from 'ioredis';
import { createRedisStores, redisClientOptions } from './ports/redis-stores.ts';
import { createRedisAdapter, type RedisAdapter } from './realtime/redis-adapter.ts';
import { createMemoryStores } from './ports/stores.ts';
import { RaceService } from './race-service.ts';
import { ShareLinks } from './share-links.ts';
import { defaultLogRetention } from './log-trimmer.ts';
import { MemoryLinkStore } from './ports/link-store.ts';
import { RedisLinkStore } from './ports/redis-link-store.ts';

/** With simulated runners, how long after the server starts (real time) the gun goes. */
const DEMO_GUN_AFTER_REAL_MS = 5000;

const WEB_ROOT = fileURLToPath(new URL('../web/dist/', import.meta.url));

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.argv.slice(2));
  const logger = createLogger(config.logLevel);
  if (config.basemap.kind === 'pmtiles') await checkPmtilesArchive(config.basemap.file);
  const clock = scaledClock(config.demoSpeed);
  const stores = config.redisUrl
    ? await createRedisStores({ url: config.redisUrl, keyPrefix: config.redisPrefix, logger, leaseTtlMs: config.leaseTtlMs })
    : createMemoryStores({
        maxLogEntries: config.memoryLogMaxEntries,
        onLogForgotten: (forgotten) => logger.warn({ forgotten }, 'the in-memory ping log is full: its oldest pings are forgotten (with REDIS_URL every ping is kept)'),
      });
  // The secret that signs live links and derives the tokens of participants the event file gives
  // none: LINK_SECRET, else one agreed through Redis by the first process (the same on every
  // process and after restarts), else a random one of this process's own.
  const secret = config.linkSecret ?? (await stores.agreeSecret(randomBytes(32).toString('base64url')));
  const event = await loadEventFile(config.eventFile, { tokenSecret: config.linkSecret ?? (config.redisUrl ? secret : null) });
  // Several processes on one Redis: a broadcast to a room reaches its sockets on every one of them.
  let redisAdapter: RedisAdapter | null = null;
  if (config.redisUrl) {
    redisAdapter = await createRedisAdapter({ url: config.redisUrl, keyPrefix: config.redisPrefix, kind: config.redisAdapter, logger });
  }
  // The HTTP budgets' counts, shared by every process on this Redis.
  let rateLimitRedis: Redis | null = null;
  if (config.redisUrl) {
    rateLimitRedis = new Redis(config.redisUrl, redisClientOptions());
    rateLimitRedis.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis (rate limits) error'));
    await rateLimitRedis.connect();
  }
  // With simulated runners, races that set no start time start 5 s (real time) after the server,
  // their phones on at the start line before the gun, as at a race. Started at once, a machine
  // slow to start the server and connect hundreds of simulated phones (seconds, which at --speed
  // 20 are minutes of race time) had the fastest runners on the track first seen most of a lap in,
  // as plausibly short of the start line: put on the lowest plausible lap, a lap short for good.
  const defaultStartMs = clock.nowMs() + (config.simulate ? DEMO_GUN_AFTER_REAL_MS * config.demoSpeed : 0);
  const service = await RaceService.create({ event, stores, clock, logger, defaultStartMs, tokenSecret: secret, logRetention: { ...defaultLogRetention, retentionMs: config.logRetentionMs } });
  // Live links on Redis: issued and revoked through any process, kept across restarts. They work
  // on every process when all share LINK_SECRET (else each signs with its own random secret).
  const linkStore = config.redisUrl ? await RedisLinkStore.connect({ url: config.redisUrl, keyPrefix: config.redisPrefix, logger }) : new MemoryLinkStore();
  const shareLinks = new ShareLinks(Buffer.from(secret), linkStore);
  await shareLinks.start(clock.nowMs());

  const organiserToken = config.organiserToken ?? randomBytes(24).toString('base64url');
  const httpServer = createServer();
  const app = createApplication(httpServer, {
    service,
    clock,
    logger,
    organiserToken,
    tickMs: config.tickMs,
    basemap: config.basemap,
    webRoot: WEB_ROOT,
    publicUrl: config.publicUrl,
    shareLinks,
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
    ...(redisAdapter ? { adapter: redisAdapter.adapter } : {}),
    ...(rateLimitRedis
      ? { rateLimitRedis: { command: (command: string, ...args: string[]) => rateLimitRedis.call(command, ...args), keyPrefix: config.redisPrefix } }
      : {}),
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;

  const lines = [
    `${event.name}: ${event.races.length} races, ${event.races.reduce((n, r) => n + r.participants.length, 0)} participants`,
    `Spectator map:   ${url}/`,
    `Organiser:       ${url}/organiser.html`,
  ];
  for (const race of event.races.filter((r) => r.isPrivate)) {
    lines.push(`Private race:    ${url}/?race=${race.raceId}#key=${encodeURIComponent(race.key ?? '')}`);
  }
  lines.push(`Map:             ${describeBasemap(config.basemap)}`);
  if (config.basemapsIgnored.length > 0) lines.push(`                 (also set, not used: ${config.basemapsIgnored.join(', ')})`);
  if (config.organiserToken === null) lines.push(`Organiser token: ${organiserToken}  (set ORGANISER_TOKEN to choose one)`);
  if (config.demoSpeed !== 1) lines.push(`Clock speed:     ${config.demoSpeed}x real time`);
  if (config.redisUrl) lines.push(`Redis:           ${config.redisPrefix} on ${redactUrl(config.redisUrl)}, ${config.redisAdapter} adapter, process ${stores.leases.holderId}`);
  if (config.redisUrl && config.linkSecret === null) lines.push('Secret:          agreed through Redis (links and generated device tokens hold on every process; LINK_SECRET to choose it)');

  let simulation: ReturnType<typeof startDemoSimulation> | null = null;
  if (config.simulate) {
    simulation = startDemoSimulation({
      url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
      event,
      raceStartMs: (raceId) => service.listRaces({ includePrivate: true }).find((r) => r.raceId === raceId)?.startsAtMs ?? 0,
      clock,
      speed: config.demoSpeed,
      onError: (message) => logger.warn({ simulation: true }, message),
    });
    lines.push(`Simulation:      on (every participant moves; --no-simulate to turn it off)`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n\n`);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'shutting down');
    // Sockets that will not close, or a Redis that does not answer, must not keep the process
    // up for ever: past the deadline it exits with a failure, for the supervisor to see.
    setTimeout(() => {
      logger.error({ deadlineMs: config.shutdownDeadlineMs }, 'shutdown did not finish in time');
      process.exit(1);
    }, config.shutdownDeadlineMs).unref();
    simulation?.stop();
    app
      .close()
      .then(() => redisAdapter?.close())
      .then(() => rateLimitRedis?.quit())
      .then(() => linkStore.close())
      .then(() => stores.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A library's promise rejected with nobody listening (a Redis command failing as Redis goes
  // away) is logged with its stack; it must not take the whole server down.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled rejection');
  });
}

/** The Redis address without its password, for the start-up lines. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof EventFileError || err instanceof BasemapError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
