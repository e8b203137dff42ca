// HTTP ingest for the tracker apps runners already have (docs/trackers/). Each request is parsed
// by its protocol into fixes, then goes through the same pipeline as the runner page's Socket.IO
// fixes (server/ingest/pipeline.ts): validate, authenticate, persist, apply, acknowledge.
import express, { type Request, type Response, type Router } from 'express';
import { ErrorCodes, errorAck, httpStatusOf, okAck, type Ack, type ErrorCode, type FixInput, type PositionAccepted } from '../../shared/protocol.ts';
import { parseOsmAnd, parseOwnTracks, parseTraccarEnvelope, traccarLocationToFix } from '../ingest/tracker-protocols.ts';
import { slicer } from '../slices.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../logger.ts';
import type { HttpLimiters } from './http-limits.ts';
import type { IngestPipeline } from '../ingest/pipeline.ts';
import type { DeviceIdentity, RaceService } from '../race-service.ts';

function refuse(res: Response, code: ErrorCode, message: string): void {
  res.status(httpStatusOf[code]).json(errorAck(code, message));
}

/** One answer for a request that carried one fix or several. */
function answer(res: Response, acks: Array<Ack<PositionAccepted>>): void {
  const refused = acks.flatMap((ack, index) => (ack.ok ? [] : [{ index, code: ack.code, message: ack.message }]));
  const first = acks[0];
  if (acks.length === 1 && first) {
    // One fix: the same answer the runner page gets over Socket.IO.
    if (first.ok) res.status(200).json(first);
    else refuse(res, first.code, first.message);
    return;
  }
  // Any fix that could not be stored: the whole request is answered "send again" (503), so the
  // app keeps its buffer. Resending is harmless: fixes already stored come back as not applied.
  const retry = refused.find((r) => r.code === ErrorCodes.UNAVAILABLE || r.code === ErrorCodes.INTERNAL);
  if (retry) {
    refuse(res, retry.code, `${refused.length} of ${acks.length} fixes could not be stored; send them again`);
    return;
  }
  if (refused.length === acks.length) {
    // A whole batch refused: answer with the first reason (the app keeps its buffer and retries).
    refuse(res, refused[0]!.code, `${refused.length} fixes refused; first: ${refused[0]!.message}`);
    return;
  }
  // Part of a batch accepted: it is stored; the refused ones are listed so they can be inspected.
  res.status(200).json(okAck({ accepted: acks.length - refused.length, refused }));
}

export function createIngestRouter(deps: { service: RaceService; ingest: IngestPipeline; logger: Logger; clock: Clock; limits: HttpLimiters }): Router {
  const { service, ingest, logger, clock, limits } = deps;
  const router = express.Router();
  const small = { limit: '16kb' };
  router.use(express.urlencoded({ ...small, extended: false }));
  // Traccar Client 9 sends its offline buffer in one request.
  router.use(express.json({ limit: '2mb', type: ['application/json', 'text/json'] }));
  // After the body is read: the apps send their credential in it.
  router.use(limits.credentialFailures, limits.ingestPerDevice);

  const authenticate = (deviceId: string, req: Request, res: Response): DeviceIdentity | null => {
    const device = service.authenticateDevice(deviceId);
    if (!device) refuse(res, ErrorCodes.UNKNOWN_DEVICE, 'unknown device id');
    else limits.credentialWorked(req);
    return device;
  };

  // OsmAnd / Traccar Client (classic) / GPSLogger: GET query string or form POST, one fix.
  // Traccar Client 9+: POST JSON, one fix or a batch.
  const osmand = async (req: Request, res: Response): Promise<void> => {
    if (req.is('application/json') || req.is('text/json')) {
      const envelope = parseTraccarEnvelope(req.body);
      if (!envelope.ok) return refuse(res, envelope.code, envelope.message);
      const device = authenticate(envelope.value.deviceId, req, res);
      if (!device) return;
      const { locations } = envelope.value;
      if (locations.length === 0) return void res.status(200).json(okAck({ accepted: 0, refused: [] }));
      // Each location checked on its own, in slices; the ones that are fixes go in as a batch.
      const receivedAtMs = clock.nowMs();
      const slices = slicer();
      const acks: Array<Ack<PositionAccepted> | null> = [];
      const fixes: FixInput[] = [];
      for (const raw of locations) {
        const fix = traccarLocationToFix(raw, receivedAtMs);
        if (fix.ok) fixes.push(withoutGlitches(fix.value));
        acks.push(fix.ok ? null : errorAck(fix.code, fix.message));
        await slices.pause();
      }
      const applied = await ingest.fixes(device, fixes);
      let next = 0;
      return answer(
        res,
        acks.map((ack) => ack ?? applied[next++]!),
      );
    }
    const fields = { ...(req.query as Record<string, unknown>), ...(typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {}) };
    const parsed = parseOsmAnd(fields, clock.nowMs());
    if (!parsed.ok) return refuse(res, parsed.code, parsed.message);
    const device = authenticate(parsed.value.deviceId, req, res);
    if (!device) return;
    return answer(res, [await ingest.fix(device, withoutGlitches(parsed.value.fix))]);
  };
  // Express answers HEAD with the GET handler; a HEAD must change nothing, so it stores no fix.
  router.head('/osmand', (_req, res) => refuse(res, ErrorCodes.MALFORMED_REQUEST, 'send a fix with GET or POST'));
  router.get('/osmand', osmand);
  router.post('/osmand', osmand);

  // OwnTracks, HTTP mode: POST JSON, HTTP Basic; the answer is a JSON array (commands to the app).
  router.post('/owntracks', async (req, res) => {
    const credentials = basicCredentials(req.get('authorization'));
    const device = credentials ? service.authenticateBasic(credentials.user, credentials.password) : null;
    if (!device) {
      res.set('www-authenticate', 'Basic realm="race tracker"');
      refuse(res, ErrorCodes.UNKNOWN_DEVICE, 'HTTP Basic authentication with the participant id and device token is required');
      return;
    }
    limits.credentialWorked(req);
    // ?u=&d= or X-Limit-U / X-Limit-D name the user and device; the user must be the one authenticated.
    const user = (typeof req.query['u'] === 'string' ? req.query['u'] : undefined) ?? req.get('x-limit-u');
    if (user !== undefined && user !== credentials!.user) {
      res.set('www-authenticate', 'Basic realm="race tracker"');
      refuse(res, ErrorCodes.UNKNOWN_DEVICE, 'the user in the URL or X-Limit-U differs from the authenticated one');
      return;
    }
    const parsed = parseOwnTracks(req.body, clock.nowMs());
    if (!parsed.ok) return refuse(res, parsed.code, parsed.message);
    if (parsed.value !== null) {
      const ack = await ingest.fix(device, withoutGlitches(parsed.value));
      if (!ack.ok) return refuse(res, ack.code, ack.message);
    } else {
      logger.debug({ participantId: device.participantId }, 'owntracks message without a fix');
    }
    res.status(200).json([]);
  });

  return router;
}

/**
 * Tracker apps retry a refused fix until it is accepted, so one fix refused for a glitch in an
 * optional field (a speed of 300 knots) would block every fix behind it. Such fields are left
 * out instead; the position itself is still checked and refused when wrong.
 */
function withoutGlitches(fix: FixInput): FixInput {
  const out = { ...fix };
  if (out.speedMps !== undefined && !(out.speedMps >= 0 && out.speedMps <= 150)) delete out.speedMps;
  if (out.accuracyM !== undefined && !(out.accuracyM >= 0 && out.accuracyM <= 100_000)) delete out.accuracyM;
  if (out.headingDeg !== undefined && !(out.headingDeg >= 0 && out.headingDeg <= 360)) delete out.headingDeg;
  if (out.batteryPct !== undefined && !(out.batteryPct >= 0 && out.batteryPct <= 100)) delete out.batteryPct;
  return out;
}

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
