// The only place that reads the environment and the command line. Everything else receives a
// checked Config.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { BasemapSetting } from './basemap.ts';
import { strongSecret } from './secret-strength.ts';
import { describeIssues } from './validation.ts';

export const DEMO_EVENT_FILE = fileURLToPath(new URL('./demo/tehrun.event.json', import.meta.url));

const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((v) => v === 'on' || v === 'true' || v === '1');

/** Whether a URL parses (placeholders such as `{fontstack}` aside). */
const isUrl = (u: string): boolean => URL.canParse(u.replace(/\{[^}]*\}/g, 'placeholder'));

// Defaults table: what the server does when a variable is unset.
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Bearer token of organisers. Unset: a random one is made at start and printed once. */
  ORGANISER_TOKEN: strongSecret('ORGANISER_TOKEN').optional(),
  /** A bearer token Prometheus may scrape GET /metrics with (the organiser token works too). */
  METRICS_TOKEN: strongSecret('METRICS_TOKEN').optional(),
  /** Log entries kept in memory without Redis, all races together (about 300 bytes each). */
  MEMORY_LOG_MAX_ENTRIES: z.coerce.number().int().min(1000).max(20_000_000).default(1_000_000),
  /** How long a shutdown may take before the process gives up and exits with a failure. */
  SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** A public Mapbox token: the map then uses a Mapbox style. Unset: an offline local style. */
  MAPBOX_TOKEN: z.string().min(1).optional(),
  /** A PMTiles archive of vector tiles (a Protomaps extract) the server serves as the basemap (docs/MAPS.md). */
  MAP_PMTILES: z.string().min(1).optional(),
  /** The attribution drawn on the map for that archive's data. */
  MAP_ATTRIBUTION: z.string().min(1).max(300).default('© OpenStreetMap contributors'),
  /** Where the map's fonts are ({fontstack} and {range} in the URL): with it, the PMTiles basemap shows street and place names. */
  MAP_GLYPHS_URL: z
    .string()
    .refine((u) => u.includes('{fontstack}') && u.includes('{range}'), 'MAP_GLYPHS_URL needs {fontstack} and {range} in it')
    .refine((u) => u.startsWith('/') || (/^https?:\/\//.test(u) && isUrl(u)), 'MAP_GLYPHS_URL is a path on this server or an http(s) URL')
    .optional(),
  /** Any MapLibre style, for organisers who have a tile service. */
  MAP_STYLE_URL: z
    .string()
    .refine((u) => u.startsWith('/') || (/^https?:\/\/[^\s]+$/.test(u) && isUrl(u)), 'MAP_STYLE_URL is a path on this server or an http(s) URL')
    .optional(),
  /** Milliseconds between deltas of a race. */
  TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Simulated runners in the demo (on by default when the built-in demo is loaded). */
  SIMULATE: onOff.optional(),
  /** How many times faster than real time the demo runs (clock, runners and checks alike). */
  DEMO_SPEED: z.coerce.number().min(0.1).max(1000).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Secret that signs private live links. Unset: a random one, so links end when the server restarts. */
  LINK_SECRET: z.string().min(32, 'LINK_SECRET needs at least 32 characters').pipe(strongSecret('LINK_SECRET')).optional(),
  /** The address phones reach the server at, for the setup page (default: the address the page was loaded from). */
  PUBLIC_URL: z.url().optional(),
  /** Redis for durable pings and runner states (docs/REDIS.md). Unset: everything in memory. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'REDIS_URL is redis://host:port or rediss://…').optional(),
  /** Prepended to every Redis key, so several events can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('racetrack'),
  /** Which Socket.IO Redis adapter carries broadcasts between processes (docs/REDIS.md). */
  REDIS_ADAPTER: z.enum(['classic', 'sharded']).default('classic'),
  /** How long Redis keeps pings behind the checkpoints, for replays (0: trimmed right behind them). */
  LOG_RETENTION_HOURS: z.coerce.number().min(0).max(24 * 90).default(48),
  /** How long a race's lease lasts unrenewed: a dead process's races are taken over after about this. */
  LEASE_TTL_MS: z.coerce.number().int().min(1000).max(60_000).default(5000),
  /**
   * Which proxies in front of the server to believe about the client's address (Express's
   * 'trust proxy'): off, a number of hops, or addresses and subnets. Per-address limits count
   * the proxy itself as one client unless it is trusted (docs/SECURITY.md).
   */
  TRUST_PROXY: z
    .string()
    .regex(/^(off|\d{1,2}|[0-9a-fA-F.:/, ]+|loopback|linklocal|uniquelocal)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+))*$/, 'TRUST_PROXY is off, a number of hops, or addresses/subnets (e.g. loopback or 10.0.0.0/8)')
    .default('off'),
});

export interface Config {
  port: number;
  host: string;
  organiserToken: string | null;
  /** What the maps draw under the courses; the first configured of MAP_PMTILES, MAP_STYLE_URL, MAPBOX_TOKEN. */
  basemap: BasemapSetting;
  /** Map sources configured but not used, because one before them in that order is. */
  basemapsIgnored: string[];
  tickMs: number;
  eventFile: string;
  isDemoEvent: boolean;
  simulate: boolean;
  demoSpeed: number;
  logLevel: string;
  linkSecret: string | null;
  publicUrl: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  redisAdapter: 'classic' | 'sharded';
  leaseTtlMs: number;
  logRetentionMs: number;
  metricsToken: string | null;
  shutdownDeadlineMs: number;
  memoryLogMaxEntries: number;
  /** Express's 'trust proxy' setting: false, a hop count, or a list of addresses. */
  trustProxy: false | number | string;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
}

export const usage = `usage: npm start -- [event-file.json] [--no-simulate] [--speed N] [--port N]

  event-file.json   the event to serve (default: the built-in TehRUN demo)
  --no-simulate     do not move simulated runners (default: simulate for the demo only)
  --simulate        move simulated runners for any event file
  --speed N         run the clock and the simulation N times faster than real time
  --port N          port to listen on (default 8080, or $PORT)

Environment: PORT, HOST, ORGANISER_TOKEN, MAP_PMTILES, MAP_ATTRIBUTION, MAP_GLYPHS_URL,
MAP_STYLE_URL, MAPBOX_TOKEN, TICK_MS, SIMULATE, DEMO_SPEED, LOG_LEVEL,
LINK_SECRET, PUBLIC_URL, REDIS_URL, REDIS_PREFIX, REDIS_ADAPTER, LEASE_TTL_MS, LOG_RETENTION_HOURS, TRUST_PROXY,
METRICS_TOKEN, SHUTDOWN_DEADLINE_MS, MEMORY_LOG_MAX_ENTRIES
(see README.md).`;

export function loadConfig(env: NodeJS.ProcessEnv, argv: string[]): Config {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        simulate: { type: 'boolean' },
        'no-simulate': { type: 'boolean' },
        speed: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (cause) {
    throw new ConfigError(`${(cause as Error).message}\n\n${usage}`);
  }
  if (args.values.help) throw new ConfigError(usage);
  if (args.positionals.length > 1) throw new ConfigError(`give at most one event file\n\n${usage}`);

  const merged = {
    ...env,
    ...(args.values.port !== undefined ? { PORT: args.values.port } : {}),
    ...(args.values.speed !== undefined ? { DEMO_SPEED: args.values.speed } : {}),
  };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n  ${describeIssues(parsed.error).join('\n  ')}`);
  const e = parsed.data;
  const eventFile = args.positionals[0] ?? DEMO_EVENT_FILE;
  const isDemoEvent = args.positionals[0] === undefined;
  let simulate = e.SIMULATE ?? isDemoEvent;
  if (args.values.simulate) simulate = true;
  if (args.values['no-simulate']) simulate = false;
  return {
    port: e.PORT,
    host: e.HOST,
    organiserToken: e.ORGANISER_TOKEN ?? null,
    ...basemapOf(e),
    tickMs: e.TICK_MS,
    eventFile,
    isDemoEvent,
    simulate,
    demoSpeed: e.DEMO_SPEED,
    logLevel: e.LOG_LEVEL,
    linkSecret: e.LINK_SECRET ?? null,
    publicUrl: e.PUBLIC_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    redisAdapter: e.REDIS_ADAPTER,
    leaseTtlMs: e.LEASE_TTL_MS,
    logRetentionMs: e.LOG_RETENTION_HOURS * 3600_000,
    metricsToken: e.METRICS_TOKEN ?? null,
    shutdownDeadlineMs: e.SHUTDOWN_DEADLINE_MS,
    memoryLogMaxEntries: e.MEMORY_LOG_MAX_ENTRIES,
    trustProxy: e.TRUST_PROXY === 'off' ? false : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY,
  };
}

/** The first configured map source, in the order MAP_PMTILES, MAP_STYLE_URL, MAPBOX_TOKEN, and the others set. */
function basemapOf(e: z.infer<typeof envSchema>): { basemap: BasemapSetting; basemapsIgnored: string[] } {
  const candidates: Array<[string, BasemapSetting | null]> = [
    ['MAP_PMTILES', e.MAP_PMTILES === undefined ? null : { kind: 'pmtiles', file: e.MAP_PMTILES, attribution: e.MAP_ATTRIBUTION, glyphsUrl: e.MAP_GLYPHS_URL ?? null }],
    ['MAP_STYLE_URL', e.MAP_STYLE_URL === undefined ? null : { kind: 'style', url: e.MAP_STYLE_URL }],
    ['MAPBOX_TOKEN', e.MAPBOX_TOKEN === undefined ? null : { kind: 'mapbox', token: e.MAPBOX_TOKEN }],
  ];
  const set = candidates.filter((c): c is [string, BasemapSetting] => c[1] !== null);
  return { basemap: set[0]?.[1] ?? { kind: 'none' }, basemapsIgnored: set.slice(1).map(([name]) => name) };
}
