// One log line per HTTP request (pino-http), with nothing secret in it: tracker apps put their
// device token in the query string (OsmAnd's `id`), old page links carried keys and tokens
// there, and credentials travel in headers, which are not logged at all.
import type { IncomingMessage } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.ts';

/** Query parameters whose values are credentials or keys somewhere in the protocol. */
const SECRET_PARAMS = new Set(['id', 'deviceid', 'device_id', 'key', 'token', 'link']);

/** The URL with every secret parameter's value replaced, for logs. */
export function redactedUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const params = new URLSearchParams(url.slice(question + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_PARAMS.has(name.toLowerCase())) params.set(name, '[redacted]');
  }
  return `${url.slice(0, question)}?${params.toString()}`;
}

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    // Health checks and scrapes come every few seconds and say nothing new.
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/metrics' },
    // 503 (a store away: send again) and 507 (a bound reached) are answered on purpose: warnings.
    customLogLevel: (_req, res, err) =>
      err || (res.statusCode >= 500 && res.statusCode !== 503 && res.statusCode !== 507) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress: string }) => ({
        id: req.id,
        method: req.method,
        url: redactedUrl(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
