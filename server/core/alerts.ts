// Alerts for organisers: conditions of a runner that need a person to look. Pure: the caller
// passes the runners' states and the time, and keeps the returned alerts.
import { RunnerStatus } from '../../shared/protocol.ts';
import { isOutOfRace, type RunnerState } from './runner-state.ts';

export type AlertKind = 'sos' | 'stopped' | 'offCourse' | 'silent' | 'batteryLow' | 'onReopenedSection';

export interface AlertThresholds {
  /** On course but not moving for this long. */
  stoppedAfterMs: number;
  /** Off the course for this long. */
  offCourseAfterMs: number;
  /** No fix for this long from a runner in the race. */
  silentAfterMs: number;
  /** Battery at or below this. */
  batteryBelowPct: number;
}

/** Defaults, per race overridable in the event file. */
export const defaultAlertThresholds: AlertThresholds = {
  stoppedAfterMs: 5 * 60_000, // longer than a drink station or a shoelace
  offCourseAfterMs: 2 * 60_000, // longer than a detour to a toilet at the roadside
  silentAfterMs: 3 * 60_000, // several fixes missed by any app set to report every few seconds
  batteryBelowPct: 15,
};

/** Below this speed a runner on course is standing still. */
const STANDING_MPS = 0.3;

/** Conditions one runner is in now, from their state; `stoppedSinceMs` is kept by the caller. */
export function runnerConditions(
  state: RunnerState,
  nowMs: number,
  thresholds: AlertThresholds,
  stoppedSinceMs: number | null,
): { kinds: AlertKind[]; stoppedSinceMs: number | null } {
  const kinds: AlertKind[] = [];
  if (isOutOfRace(state.status) || state.status === RunnerStatus.notStarted) return { kinds, stoppedSinceMs: null };
  const standing = state.status === RunnerStatus.onCourse && state.progress !== null && state.progress.speedMps < STANDING_MPS;
  const since = standing ? (stoppedSinceMs ?? state.progress!.atMs) : null;
  if (since !== null && nowMs - since >= thresholds.stoppedAfterMs) kinds.push('stopped');
  if (state.status === RunnerStatus.offCourse && state.offCorridorSinceMs !== null && nowMs - state.offCorridorSinceMs >= thresholds.offCourseAfterMs) {
    kinds.push('offCourse');
  }
  if (state.lastFixAtMs !== null && nowMs - state.lastFixAtMs >= thresholds.silentAfterMs) kinds.push('silent');
  if (state.batteryPct !== null && state.batteryPct <= thresholds.batteryBelowPct) kinds.push('batteryLow');
  return { kinds, stoppedSinceMs: since };
}
