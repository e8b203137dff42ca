// How long a race's shared log is kept (docs/REDIS.md): trimmed behind the writer's checkpoints
// (a restart needs nothing before them), keeping the retention for replays and always a few
// minutes for a process reading a little behind, or starting up.
import type { Logger } from './logger.ts';
import { compareLogIds, type PingLog } from './ports/stores.ts';

export interface LogRetention {
  /** Pings kept behind the checkpoints, for replays (default 48 hours). */
  retentionMs: number;
  /** Least time between two trims of one race's log (default a minute). */
  trimEveryMs: number;
  /** Always kept behind the checkpoints, whatever the retention (default 5 minutes). */
  lagMarginMs: number;
}

export const defaultLogRetention: LogRetention = { retentionMs: 48 * 3600_000, trimEveryMs: 60_000, lagMarginMs: 5 * 60_000 };

export class LogTrimmer {
  private readonly trimmedAtMs = new Map<string, number>();

  constructor(
    private readonly pingLog: PingLog,
    private readonly logger: Logger,
    private readonly retention: LogRetention = defaultLogRetention,
  ) {}

  /**
   * After a checkpoint of the race at `checkpointLogId`: trims in the background, at most once per
   * `trimEveryMs`. Log ids are Redis's own clock, so the retention is counted on the real clock,
   * not the race's (a demo's may run faster).
   */
  afterCheckpoint(raceId: string, checkpointLogId: string): void {
    const nowMs = Date.now();
    const lastMs = this.trimmedAtMs.get(raceId);
    if (lastMs !== undefined && nowMs - lastMs < this.retention.trimEveryMs) return;
    this.trimmedAtMs.set(raceId, nowMs);
    const retainedFrom = `${Math.max(0, nowMs - Math.max(this.retention.retentionMs, this.retention.lagMarginMs))}-0`;
    const before = compareLogIds(retainedFrom, checkpointLogId) < 0 ? retainedFrom : checkpointLogId;
    void this.pingLog.trimBefore(raceId, before).then(
      (trimmed) => {
        if (trimmed > 0) this.logger.debug({ raceId, trimmed }, 'log trimmed behind the checkpoint');
      },
      (err: unknown) => this.logger.warn({ err, raceId }, 'log trim failed'),
    );
  }
}
