// Validation of a fix at the edge. Every protocol's parser ends here, so a fix that reaches the
// core has finite numbers in the documented units and ranges.
import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../../shared/protocol.ts';
import type { Fix } from '../core/race-tracker.ts';
import { describeIssues, parseInput } from '../validation.ts';

/** 2000-01-01: anything earlier is a unit mistake (seconds sent as milliseconds) or a broken clock. */
const EARLIEST_FIX_MS = 946_684_800_000;

const fixSchema = z
  .object({
    lat: z.number(),
    lon: z.number(),
    recordedAtMs: z.number().int(),
    accuracyM: z.number().min(0).max(100_000).optional(),
    speedMps: z.number().min(0).max(150).optional(),
    headingDeg: z.number().min(0).max(360).optional(),
    batteryPct: z.number().min(0).max(100).optional(),
  })
  .strict();

export type FixCheck = { ok: true; fix: Fix } | { ok: false; code: ErrorCode; message: string };

export interface FixLimits {
  /** How far ahead of the server's clock a fix may be recorded (phone clocks drift). */
  maxFutureMs: number;
}

export const defaultFixLimits: FixLimits = { maxFutureMs: 30_000 };

export function checkFix(raw: unknown, nowMs: number, limits: FixLimits = defaultFixLimits): FixCheck {
  const parsed = parseInput(fixSchema, raw);
  if (!parsed.success) {
    return { ok: false, code: ErrorCodes.MALFORMED_FIX, message: describeIssues(parsed.error).join('; ') };
  }
  const fix = parsed.data;
  if (Math.abs(fix.lat) > 90 || Math.abs(fix.lon) > 180) {
    return {
      ok: false,
      code: ErrorCodes.COORDINATES_OUT_OF_RANGE,
      message: `lat must be within -90..90 and lon within -180..180 (got ${fix.lat}, ${fix.lon})`,
    };
  }
  if (fix.recordedAtMs < EARLIEST_FIX_MS) {
    return {
      ok: false,
      code: ErrorCodes.MALFORMED_FIX,
      message: 'recordedAtMs must be milliseconds since the Unix epoch, after the year 2000 (seconds sent as milliseconds?)',
    };
  }
  if (fix.recordedAtMs > nowMs + limits.maxFutureMs) {
    return {
      ok: false,
      code: ErrorCodes.FIX_FROM_FUTURE,
      message: `the fix was recorded ${Math.round((fix.recordedAtMs - nowMs) / 1000)} s after the server's time; check the device clock`,
    };
  }
  return { ok: true, fix };
}
