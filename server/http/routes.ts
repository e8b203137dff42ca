// HTTP edge: race listing, course and snapshot for joining or re-syncing clients, health, the
// organiser's device credentials, and the built web pages.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { ErrorCodes, errorAck, httpStatusOf, okAck, type ClientConfig, type ErrorCode, type ShareLinkInfo } from '../../shared/protocol.ts';
import { createOrganiserAuth, type OrganiserAuth } from '../access.ts';
import { basemapHosts, PMTILES_PATH, type BasemapSetting } from '../basemap.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Course } from '../core/course.ts';
import type { LineResult } from '../event/course-import.ts';
import type { LineParser } from '../event/course-parser.ts';
import { courseFromDefinition, courseFromLine } from '../event/event-file.ts';
import { strongSecret } from '../secret-strength.ts';
import { RaceService, type RaceEntry } from '../race-service.ts';
import { MAX_LINK_TTL_MS, MAX_LINKS, MAX_LINKS_PER_PARTICIPANT, type ShareLinks } from '../share-links.ts';
import { describeIssues, parseInput } from '../validation.ts';
import type { HttpLimiters } from './http-limits.ts';
import { createIngestRouter } from './ingest-routes.ts';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import { requestLogger } from './request-log.ts';
import { resultsCsv, resultsOf, rowsFor, searchRunners } from '../results-export.ts';
import { ReplayCache } from '../replay.ts';
import { securityHeaders } from './security-headers.ts';

export interface HttpDeps {
  service: RaceService;
  shareLinks: ShareLinks;
  organiserAuth: OrganiserAuth;
  logger: Logger;
  clientConfig: Omit<ClientConfig, 'serverNowMs'>;
  /** The basemap as configured: a PMTiles archive is served from here. */
  basemap: BasemapSetting;
  clock: Clock;
  /** Built web pages (Vite's output); absent in tests that need no pages. */
  webRoot: string | null;
  isReady: () => boolean;
  trustProxy: false | number | string;
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** Accepted for GET /metrics besides the organiser token. */
  metricsToken: string | null;
  /** Reads uploaded course lines off the event loop (server/event/course-parser.ts). */
  parseLine: LineParser;
  /** Per-client budgets (server/http/http-limits.ts). */
  limits: HttpLimiters;
  /** Where the tracker apps' fixes go: the same pipeline as the runner page's. */
  ingest: IngestPipeline;
}

function sendError(res: Response, code: ErrorCode, message: string): void {
  res.status(httpStatusOf[code]).json(errorAck(code, message));
}

export function createHttpApp(deps: HttpDeps): express.Express {
  const { service, organiserAuth, logger, clock } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy);
  app.use(requestLogger(logger));
  app.use(securityHeaders({ mapHosts: basemapHosts(deps.basemap) }));

  const { limits } = deps;
  const isOrganiser = (req: Request): boolean => {
    const organiser = organiserAuth.isOrganiserHeader(req.get('authorization'));
    if (organiser) limits.credentialWorked(req);
    return organiser;
  };
  const deviceOf = (req: Request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const device = match ? service.authenticateDevice(match[1]) : null;
    if (device) limits.credentialWorked(req);
    return device;
  };

  /** The race when the caller may see it: public, or private with its key, or an organiser. */
  const viewableRace = (req: Request, res: Response): RaceEntry | null => {
    const raceId = req.params['raceId'];
    const keyParam = req.query['key'];
    const key = typeof keyParam === 'string' ? keyParam : req.get('x-race-key');
    const race = typeof raceId === 'string' ? service.findViewableRace(raceId, { key, isOrganiser: isOrganiser(req) }) : null;
    if (!race) sendError(res, ErrorCodes.UNKNOWN_RACE, 'no such race, or it is private and the key is missing or wrong');
    return race;
  };

  app.get('/healthz', async (_req, res) => {
    if (!deps.isReady()) return sendError(res, ErrorCodes.UNAVAILABLE, 'starting');
    if (!(await service.storesHealthy())) return sendError(res, ErrorCodes.UNAVAILABLE, 'the store (Redis) does not answer');
    res.json(okAck({ status: 'ready' }));
  });

  // Prometheus scrapes with a bearer token: the organiser's, or METRICS_TOKEN.
  const metricsAuth = deps.metricsToken === null ? null : createOrganiserAuth(deps.metricsToken);
  app.get('/metrics', limits.credentialFailures, async (req, res) => {
    const header = req.get('authorization');
    if (!isOrganiser(req) && !(metricsAuth?.isOrganiserHeader(header) ?? false)) {
      return sendError(res, ErrorCodes.UNAUTHORIZED, 'send the organiser token or METRICS_TOKEN as "Authorization: Bearer <token>"');
    }
    if (metricsAuth?.isOrganiserHeader(header)) limits.credentialWorked(req);
    res.set('content-type', deps.metrics.contentType).set('cache-control', 'no-store').send(await deps.metrics.render());
  });

  app.get('/api/config', (_req, res) => {
    const config: ClientConfig = { ...deps.clientConfig, serverNowMs: deps.clock.nowMs() };
    res.set('cache-control', 'no-store').json(okAck(config));
  });

  app.get('/api/races', (req, res) => {
    res.json(okAck({ eventName: service.eventName, races: service.listRaces({ includePrivate: isOrganiser(req) }) }));
  });

  app.get('/api/races/:raceId', (req, res) => {
    const race = viewableRace(req, res);
    if (race) res.json(okAck(service.summary(race)));
  });

  app.get('/api/races/:raceId/course', (req, res) => {
    const race = viewableRace(req, res);
    // A course does not change during a race; let browsers keep it briefly.
    if (race) res.set('cache-control', 'private, max-age=60').json(okAck(service.courseGeometry(race)));
  });

  app.get('/api/races/:raceId/snapshot', (req, res) => {
    const race = viewableRace(req, res);
    if (race) res.set('cache-control', 'no-store').json(okAck(service.snapshot(race)));
  });

  // Results (docs/RESULTS.md): the table as JSON or CSV, all or one category.
  const resultsQuery = z
    .object({ format: z.enum(['json', 'csv']).default('json'), category: z.string().trim().min(1).max(32).optional(), key: z.string().optional() })
    .strict();
  app.get('/api/races/:raceId/results', (req, res) => {
    const race = viewableRace(req, res);
    if (!race) return;
    const query = parseInput(resultsQuery, req.query);
    if (!query.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(query.error).join('; '));
    const { format, category } = query.data;
    const results = resultsOf(service, race);
    const rows = rowsFor(results, category);
    res.set('cache-control', 'no-store');
    if (format === 'csv') {
      const file = `${race.raceId}${category === undefined ? '' : '-' + category.replace(/[^A-Za-z0-9_-]/g, '_')}-results.csv`;
      res.type('text/csv; charset=utf-8').set('content-disposition', `attachment; filename="${file}"`).send(resultsCsv(results, rows, category !== undefined));
      return;
    }
    res.json(okAck({ ...results, ...(category === undefined ? {} : { category }), rows }));
  });
  // Replay (docs/RESULTS.md): the race again from its ping log, and a runner's own track.
  const replays = new ReplayCache((raceId) => service.stores.pingLog.read(raceId));
  app.get('/api/races/:raceId/replay', async (req, res) => {
    const race = viewableRace(req, res);
    if (!race) return;
    try {
      const { replay } = await replays.get(race);
      res.set('cache-control', 'no-store').json(okAck(replay));
    } catch (err) {
      logger.warn({ err: (err as Error).message, raceId: race.raceId }, 'replay failed');
      sendError(res, ErrorCodes.UNAVAILABLE, 'the race log could not be read; try again');
    }
  });
  app.get('/api/races/:raceId/replay/tracks/:participantId', async (req, res) => {
    const race = viewableRace(req, res);
    if (!race) return;
    const participantId = req.params['participantId'];
    if (typeof participantId !== 'string' || !race.tracker.hasParticipant(participantId)) {
      return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such runner in this race');
    }
    try {
      const { tracks } = await replays.get(race);
      res.set('cache-control', 'no-store').json(okAck({ participantId, points: tracks.get(participantId) ?? [] }));
    } catch (err) {
      logger.warn({ err: (err as Error).message, raceId: race.raceId }, 'replay failed');
      sendError(res, ErrorCodes.UNAVAILABLE, 'the race log could not be read; try again');
    }
  });
  const searchQuery = z.object({ q: z.string().trim().min(1).max(64), limit: z.coerce.number().int().min(1).max(50).default(20) }).strict();
  app.get('/api/results/search', (req, res) => {
    const query = parseInput(searchQuery, req.query);
    if (!query.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(query.error).join('; '));
    // Every race the caller may see: public ones, a private one whose key is sent, all for organisers.
    const access = { key: req.get('x-race-key'), isOrganiser: isOrganiser(req) };
    const races = service
      .listRaces({ includePrivate: true })
      .map((summary) => service.findViewableRace(summary.raceId, access))
      .filter((race): race is RaceEntry => race !== null);
    res.set('cache-control', 'no-store').json(okAck({ query: query.data.q, matches: searchRunners(service, races, query.data.q, query.data.limit) }));
  });

  app.use('/ingest', createIngestRouter({ service, ingest: deps.ingest, logger, clock, limits }));
  // Wrong tokens are counted per address, organisers' requests too (server/http/http-limits.ts).
  app.use('/api/device', limits.credentialFailures);
  app.use('/api/organiser', limits.organiser, limits.credentialFailures);
  const jsonBody = express.json({ limit: '4kb' });

  /** Organiser-only routes answer 401 to anyone else. */
  const organiserOnly = (req: Request, res: Response, next: NextFunction): void => {
    if (isOrganiser(req)) next();
    else sendError(res, ErrorCodes.UNAUTHORIZED, 'send the organiser token as "Authorization: Bearer <token>"');
  };
  app.use('/api/organiser', organiserOnly);

  app.get('/api/organiser/sections', (_req, res) => {
    res.set('cache-control', 'no-store').json(okAck({ sections: service.sectionStatuses() }));
  });
  app.post('/api/organiser/sections/:sectionId/reopen', async (req, res) => {
    const result = await service.reopenSection(String(req.params['sectionId']), req.query['force'] === 'true');
    if (result === 'unknown') return sendError(res, ErrorCodes.NOT_FOUND, 'no such section');
    if (result === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    if (result === 'not ready') {
      sendError(res, ErrorCodes.CONFLICT, 'this section is not ready to reopen; add ?force=true to reopen it anyway');
      return;
    }
    res.json(okAck(null));
  });

  // Changes at short notice.
  app.post('/api/organiser/participants/:participantId/outcome', jsonBody, async (req, res) => {
    const body = parseInput(outcomeRequest, req.body ?? {});
    if (!body.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(body.error).join('; '));
    const outcome = await service.setOutcome(String(req.params['participantId']), body.data.outcome, 'organiser');
    if (outcome === 'unknown') return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant');
    if (outcome === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    res.json(okAck(null));
  });
  // The lap a runner is on (loops and tracks): a lap count the engine could not know, such as a
  // runner first seen mid-race, whom it places on the lowest lap their fixes allow.
  app.post('/api/organiser/participants/:participantId/lap', jsonBody, async (req, res) => {
    const body = parseInput(lapRequest, req.body ?? {});
    if (!body.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(body.error).join('; '));
    const outcome = await service.setLap(String(req.params['participantId']), body.data.lap, 'organiser');
    if (outcome === 'unknown') return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant in a race');
    if (outcome === 'not lapped') return sendError(res, ErrorCodes.MALFORMED_REQUEST, 'the runner is in a street race, which has no laps');
    if (outcome === 'no such lap') return sendError(res, ErrorCodes.MALFORMED_REQUEST, 'the race has no such lap for where the runner is on it');
    if (outcome === 'not placed') return sendError(res, ErrorCodes.MALFORMED_REQUEST, 'the runner is not on the course (not seen yet, finished, or out of the race)');
    if (outcome === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    res.json(okAck(null));
  });
  app.post('/api/organiser/races', express.json({ limit: COURSE_UPLOAD_LIMIT }), async (req, res) => {
    const created = await service.createRace(req.body, deps.parseLine, 'organiser');
    if (created === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the race could not be stored; send it again');
    const problems = Array.isArray(created) || created === 'capacity' ? created : [];
    if (problems === 'capacity') {
      return sendError(res, ErrorCodes.CAPACITY_REACHED, `this server holds at most ${RaceService.MAX_RACES} races and ${RaceService.MAX_PARTICIPANTS} participants`);
    }
    if (problems.length > 0 || typeof created !== 'object' || Array.isArray(created)) {
      res.status(httpStatusOf.MALFORMED_REQUEST).json({ ...errorAck(ErrorCodes.MALFORMED_REQUEST, problems.join('; ')), problems });
      return;
    }
    res.status(201).json(okAck(service.summary(created)));
  });
  app.post('/api/organiser/participants/:participantId/move', jsonBody, async (req, res) => {
    const body = parseInput(moveRequest, req.body ?? {});
    if (!body.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(body.error).join('; '));
    const result = await service.moveParticipant(String(req.params['participantId']), body.data.raceId, 'organiser');
    if (result === 'unknown participant') return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant');
    if (result === 'unknown race') return sendError(res, ErrorCodes.UNKNOWN_RACE, 'no such race');
    if (result === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the move could not be stored; send it again');
    res.json(okAck(service.participant(String(req.params['participantId']))));
  });
  app.patch('/api/organiser/races/:raceId', jsonBody, async (req, res) => {
    const race = service.race(String(req.params['raceId']));
    if (!race) return sendError(res, ErrorCodes.UNKNOWN_RACE, 'no such race');
    const body = parseInput(raceChangeRequest, req.body ?? {});
    if (!body.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(body.error).join('; '));
    const { startsAt, key } = body.data;
    if (body.data.private === true && key === undefined && race.keyDigest === null) {
      return sendError(res, ErrorCodes.MALFORMED_REQUEST, 'a race made private needs a key of at least 16 characters');
    }
    const outcome = await service.changeRace(
      race,
      {
        ...(body.data.name !== undefined ? { name: body.data.name } : {}),
        ...(startsAt !== undefined ? { startsAtMs: Date.parse(startsAt) } : {}),
        ...(body.data.private !== undefined ? { isPrivate: body.data.private } : {}),
        ...(key !== undefined ? { key } : {}),
      },
      'organiser',
    );
    if (outcome === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    res.json(okAck(service.summary(race)));
  });
  app.get('/api/organiser/audit', async (_req, res) => {
    let entries;
    try {
      entries = await service.audit();
    } catch {
      return sendError(res, ErrorCodes.UNAVAILABLE, 'the audit could not be read; try again');
    }
    res.set('cache-control', 'no-store').json(okAck({ entries }));
  });

  app.get('/api/organiser/alerts', (_req, res) => {
    res.set('cache-control', 'no-store').json(okAck({ alerts: service.recentAlerts() }));
  });
  app.post('/api/organiser/alerts/:alertId/:action', async (req, res) => {
    const action = req.params['action'];
    if (action !== 'acknowledge' && action !== 'resolve') return sendError(res, ErrorCodes.NOT_FOUND, 'use …/acknowledge or …/resolve');
    const alert = await service.setAlertState(String(req.params['alertId']), action === 'acknowledge' ? 'acknowledged' : 'resolved', 'organiser');
    if (!alert) return sendError(res, ErrorCodes.NOT_FOUND, 'no such alert');
    if (alert === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    if (alert === 'resolved') {
      sendError(res, ErrorCodes.CONFLICT, 'this alert is resolved already');
      return;
    }
    res.json(okAck(alert));
  });

  app.get('/api/organiser/devices', (_req, res) => {
    res.set('cache-control', 'no-store').json(okAck({ devices: service.deviceCredentials() }));
  });

  // Issuing a token replaces the participant's old one; revoking leaves them without any.
  // (Through the race's log: the change holds on every process and after a restart.)
  app.post('/api/organiser/participants/:participantId/device-token', async (req, res) => {
    const token = await service.issueDeviceToken(String(req.params['participantId']), 'organiser');
    if (token === 'unknown') return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant');
    if (token === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    res.set('cache-control', 'no-store').json(okAck({ participantId: req.params['participantId'], deviceToken: token }));
  });
  app.delete('/api/organiser/participants/:participantId/device-token', async (req, res) => {
    const outcome = await service.revokeDeviceToken(String(req.params['participantId']), 'organiser');
    if (outcome === 'unknown') return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant');
    if (outcome === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the change could not be stored; send it again');
    res.json(okAck(null));
  });

  // Private live links: created and revoked by the runner (device token) or by organisers.
  const linkInfo = (link: { linkId: string; expiresAtMs: number }, token?: string): ShareLinkInfo & { link?: string } => ({
    linkId: link.linkId,
    expiresAtMs: link.expiresAtMs,
    // In the fragment: browsers never send it to a server, so it stays out of logs and Referers.
    path: token ? `/follow.html#link=${encodeURIComponent(token)}` : '',
    ...(token ? { link: token } : {}),
  });
  const issueLink = async (req: Request, res: Response, participantId: string) => {
    const body = parseInput(linkRequest, req.body ?? {});
    if (!body.success) return sendError(res, ErrorCodes.MALFORMED_REQUEST, describeIssues(body.error).join('; '));
    const participant = service.participant(participantId);
    if (!participant) return sendError(res, ErrorCodes.UNKNOWN_PARTICIPANT, 'no such participant');
    const nowMs = clock.nowMs();
    const link = await deps.shareLinks.issue(participant.raceId, participantId, nowMs + body.data.validForHours * 3600_000, nowMs);
    if (!link) {
      return sendError(res, ErrorCodes.CAPACITY_REACHED, `a runner has at most ${MAX_LINKS_PER_PARTICIPANT} live links at once (the server ${MAX_LINKS}); revoke one first`);
    }
    res.status(201).set('cache-control', 'no-store').json(okAck(linkInfo(link, link.token)));
  };
  app.post('/api/device/share-links', jsonBody, async (req, res) => {
    const device = deviceOf(req);
    if (!device) return sendError(res, ErrorCodes.UNKNOWN_DEVICE, 'send the device token as "Authorization: Bearer <token>"');
    await issueLink(req, res, device.participantId);
  });
  app.get('/api/device/share-links', async (req, res) => {
    const device = deviceOf(req);
    if (!device) return sendError(res, ErrorCodes.UNKNOWN_DEVICE, 'send the device token as "Authorization: Bearer <token>"');
    const links = await deps.shareLinks.linksOf(device.participantId, clock.nowMs());
    res.set('cache-control', 'no-store').json(okAck({ links: links.map((l) => linkInfo(l)) }));
  });
  app.delete('/api/device/share-links/:linkId', async (req, res) => {
    const device = deviceOf(req);
    if (!device) return sendError(res, ErrorCodes.UNKNOWN_DEVICE, 'send the device token as "Authorization: Bearer <token>"');
    // A runner revokes only their own links.
    const own = (await deps.shareLinks.linksOf(device.participantId, Number.NEGATIVE_INFINITY)).some((l) => l.linkId === req.params['linkId']);
    if (!own || !(await deps.shareLinks.revoke(String(req.params['linkId']), clock.nowMs()))) return sendError(res, ErrorCodes.NOT_FOUND, 'no such link of yours');
    res.json(okAck(null));
  });
  app.post('/api/organiser/participants/:participantId/share-links', jsonBody, async (req, res) => {
    await issueLink(req, res, String(req.params['participantId']));
  });
  app.delete('/api/organiser/share-links/:linkId', async (req, res) => {
    if (!(await deps.shareLinks.revoke(String(req.params['linkId']), clock.nowMs()))) return sendError(res, ErrorCodes.NOT_FOUND, 'no such active link');
    res.json(okAck(null));
  });
  // What a link shows, over HTTP (the page then follows live over Socket.IO).
  app.get('/api/follow', (req, res) => {
    // In a header, so it stays out of URLs and logs; ?link= still works for older pages.
    const checked = deps.shareLinks.check(req.get('x-live-link') ?? req.query['link'], clock.nowMs());
    if (!checked.ok) return sendError(res, checked.code, checked.message);
    const { raceId, participantId, expiresAtMs } = checked.claims;
    const snapshot = service.followSnapshot(raceId, participantId, expiresAtMs);
    if (!snapshot) return sendError(res, ErrorCodes.LINK_INVALID, 'the runner of this link is no longer in its race');
    res.set('cache-control', 'no-store').json(okAck(snapshot));
  });

  // What a runner's own device token unlocks: who they are, for the setup and runner pages.
  app.get('/api/device/me', (req, res) => {
    const device = deviceOf(req);
    if (!device) return sendError(res, ErrorCodes.UNKNOWN_DEVICE, 'send the device token as "Authorization: Bearer <token>"');
    const race = service.race(device.raceId)!;
    const names = race.tracker.everParticipants.find((p) => p.participantId === device.participantId)?.names;
    res.set('cache-control', 'no-store').json(
      okAck({ ...device, ...(names ? { names } : {}), raceName: race.name, ...(race.names ? { raceNames: race.names } : {}), isPrivate: race.isPrivate }),
    );
  });

  // Course import: a GeoJSON or GPX line (with ?kind=street|loop|track and, for a loop or a track,
  // ?lapLengthM= and ?startOffsetM=),
  // or a JSON course definition as in the event file (a track, or a line inline).
  const courseBodies = [
    express.json({ type: ['application/json', 'application/geo+json'], limit: COURSE_UPLOAD_LIMIT }),
    express.text({ type: ['application/gpx+xml', 'application/xml', 'text/xml'], limit: COURSE_UPLOAD_LIMIT }),
  ];
  app.put('/api/organiser/races/:raceId/course', ...courseBodies, async (req, res) => {
    if (!isOrganiser(req)) {
      sendError(res, ErrorCodes.UNAUTHORIZED, 'send the organiser token as "Authorization: Bearer <token>"');
      return;
    }
    const race = service.race(String(req.params['raceId']));
    if (!race) {
      sendError(res, ErrorCodes.UNKNOWN_RACE, 'no such race');
      return;
    }
    const result = await courseFromUpload(req, race.tracker.course, deps.parseLine);
    if ('problems' in result) {
      res.status(httpStatusOf.INVALID_COURSE).json({ ...errorAck(ErrorCodes.INVALID_COURSE, result.problems.join('; ')), problems: result.problems });
      return;
    }
    const outcome = await service.replaceCourse(race, result.course, 'organiser');
    if (outcome === 'unavailable') return sendError(res, ErrorCodes.UNAVAILABLE, 'the course could not be stored; send it again');
    if (outcome === 'unknown') {
      const problems = ['the course could not be built'];
      res.status(httpStatusOf.INVALID_COURSE).json({ ...errorAck(ErrorCodes.INVALID_COURSE, problems[0]!), problems });
      return;
    }
    res.json(okAck(service.courseGeometry(race)));
  });

  app.use('/api', (_req, res) => {
    sendError(res, ErrorCodes.NOT_FOUND, 'no such API route; see docs/PROTOCOL.md');
  });

  if (deps.basemap.kind === 'pmtiles') {
    // The map reads the archive in pieces: HTTP range requests, which send (Express's sendFile) answers.
    const file = resolve(deps.basemap.file);
    // (No budget of its own, like the pages' files: a range of a file on disk costs what a page's file does.)
    app.get(PMTILES_PATH, (_req, res) => {
      // (From its own folder, with dot-folders allowed: the path is the operator's, not a request's.)
      const options = { root: dirname(file), dotfiles: 'allow' as const, acceptRanges: true, maxAge: '1h', headers: { 'content-type': 'application/vnd.pmtiles' } };
      res.sendFile(basename(file), options, (err: (Error & { status?: number }) | undefined) => {
        if (!err || res.headersSent) return;
        // A range past the end is answered 416; anything else is a file gone.
        if (err.status === 416) res.status(416).end();
        else sendError(res, ErrorCodes.NOT_FOUND, 'the basemap archive cannot be read');
      });
    });
  }

  if (deps.webRoot !== null && existsSync(join(deps.webRoot, 'index.html'))) {
    const webRoot = deps.webRoot;
    app.use(express.static(webRoot, { index: 'index.html', maxAge: '1h', setHeaders: noCacheForHtml }));
  } else if (deps.webRoot !== null) {
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('The web pages are not built: run "npm run build" (npm start does it for you).');
    });
  }

  app.use((_req: Request, res: Response) => {
    sendError(res, ErrorCodes.NOT_FOUND, 'not found');
  });
  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    // Express marks the client's own mistakes (an undecodable URL, an unreadable body) with a 4xx.
    const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
    if (status === 413) return sendError(res, ErrorCodes.PAYLOAD_TOO_LARGE, 'the request body is larger than this route accepts');
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, ErrorCodes.MALFORMED_REQUEST, (err as Error).message || 'malformed request');
    }
    logger.error({ err }, 'http request failed');
    sendError(res, ErrorCodes.INTERNAL, 'internal error');
  });
  return app;
}

const COURSE_UPLOAD_LIMIT = '5mb';

const moveRequest = z.object({ raceId: z.string().min(1).max(64) }).strict();
const outcomeRequest = z.object({ outcome: z.enum(['dnf', 'dsq', 'racing']) }).strict();
const lapRequest = z.object({ lap: z.number().int().min(1).max(100_000) }).strict();
const raceChangeRequest = z
  .object({
    name: z.string().min(1).max(120).optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    private: z.boolean().optional(),
    key: strongSecret('a race key', 128).optional(),
  })
  .strict();

const linkRequest = z
  .object({ validForHours: z.number().positive().max(MAX_LINK_TTL_MS / 3600_000).default(24) })
  .strict();

const uploadShape = z.object({
  kind: z.enum(['street', 'loop', 'track']).optional(),
  lapLengthM: z.coerce.number().positive().max(100_000).optional(),
  startOffsetM: z.coerce.number().min(0).max(100_000).optional(),
});

/** The course an organiser's upload describes, or what is wrong with it. */
async function courseFromUpload(req: Request, current: Course, parseLine: LineParser): Promise<{ course: Course } | { problems: string[] }> {
  const distanceM = current.raceDistanceM;
  const shape = parseInput(uploadShape, req.query);
  if (!shape.success) return { problems: describeIssues(shape.error, 'query') };
  if (typeof req.body === 'string') {
    return withShape(await parseLine({ gpx: req.body }), shape.data, current, distanceM);
  }
  if (typeof req.body !== 'object' || req.body === null || Object.keys(req.body as object).length === 0) {
    return { problems: ['send a GeoJSON line (Content-Type: application/geo+json), a GPX file (application/gpx+xml) or a course definition (application/json)'] };
  }
  if ('kind' in (req.body as object)) return courseFromDefinition(req.body, distanceM, parseLine);
  return withShape(await parseLine({ geojson: req.body }), shape.data, current, distanceM);
}

function withShape(
  line: LineResult,
  shape: z.infer<typeof uploadShape>,
  current: Course,
  distanceM: number,
): { course: Course } | { problems: string[] } {
  // Without ?kind the race keeps the kind of course it has. A line for a loop or a track starts at
  // its lap line.
  const kind = shape.kind ?? current.kind;
  return courseFromLine(
    line,
    kind === 'street'
      ? { kind }
      : {
          kind,
          ...(shape.lapLengthM !== undefined ? { lapLengthM: shape.lapLengthM } : {}),
          ...(shape.startOffsetM !== undefined ? { startOffsetM: shape.startOffsetM } : {}),
        },
    distanceM,
  );
}

function noCacheForHtml(res: Response, path: string): void {
  // Pages must pick up a new build at once; hashed assets may be cached.
  if (path.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}
