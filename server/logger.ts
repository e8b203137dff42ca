// Structured logs (pino): one JSON line per event, so they can be searched on race day.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: undefined });
}

/** For tests: logs nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
