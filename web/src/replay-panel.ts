// The spectator page's replay panel: a race watched again (server/replay.ts, docs/RESULTS.md),
// its slider and play button, and the followed runner's own track up to the moment shown. The
// page asks it where each runner was at that moment when it draws.
import { formatDuration } from '../../shared/results.ts';
import type { RaceMap } from './map.ts';
import { $ } from './dom.ts';
import { clockTime, localDigits, t } from './i18n.ts';

/** A race watched again, as the server sends it. */
interface ReplayData {
  raceId: string;
  startsAtMs: number;
  stepMs: number;
  runners: Array<{ runnerIndex: number; participantId: string }>;
  distances: number[][];
  statuses: number[][];
}

/** The page's means: its requests (with the race's key), its map, the race shown, a redraw, a message. */
export interface ReplayPanelDeps {
  api: <T>(path: string) => Promise<T>;
  map: RaceMap;
  raceId: () => string | null;
  render: () => void;
  message: (text: string) => void;
}

/** Where each runner was at a moment of a replay: between the frames either side of it. */
function replayPositions(data: ReplayData, atMs: number): Map<number, { distanceM: number; status: number }> {
  const f = Math.min(Math.max((atMs - data.startsAtMs) / data.stepMs, 0), data.distances.length - 1);
  const k = Math.floor(f);
  const next = Math.min(k + 1, data.distances.length - 1);
  const out = new Map<number, { distanceM: number; status: number }>();
  for (const [i, runner] of data.runners.entries()) {
    const a = data.distances[k]![i]!;
    const b = data.distances[next]![i]!;
    out.set(runner.runnerIndex, { distanceM: a + (b - a) * (f - k), status: data.statuses[k]![i]! });
  }
  return out;
}

export class ReplayPanel {
  /** The replay being watched (the panel open), and where in it. */
  private replay: { data: ReplayData; atMs: number; timer: number | null; track: { participantId: string; points: Array<[number, number, number]> } | null } | null = null;

  constructor(private readonly deps: ReplayPanelDeps) {
    $('replay-panel').addEventListener('toggle', () => ($<HTMLDetailsElement>('replay-panel').open ? this.open() : this.closed()));
    $('replay-slider').addEventListener('input', () => {
      if (!this.replay) return;
      this.replay.atMs = this.replay.data.startsAtMs + Number($<HTMLInputElement>('replay-slider').value) * 1000;
      this.showTime();
      this.deps.render();
    });
    $('replay-play').addEventListener('click', () => this.playOrPause());
  }

  /** The moment shown, in a replay. */
  get atMs(): number | null {
    return this.replay ? this.replay.atMs : null;
  }

  /** Where each runner of the race was at the moment shown; null outside a replay of that race. */
  positions(raceId: string): Map<number, { distanceM: number; status: number }> | null {
    const replay = this.replay;
    return replay && replay.data.raceId === raceId ? replayPositions(replay.data, replay.atMs) : null;
  }

  /** Closes the panel (another race is opened). */
  close(): void {
    if (!this.replay) return;
    $<HTMLDetailsElement>('replay-panel').open = false;
    this.closed();
  }

  /** In a replay, the followed runner's own track up to the moment shown. */
  renderTrack(participantId: string | null): void {
    const replay = this.replay;
    const raceId = this.deps.raceId();
    if (!replay || raceId === null || participantId === null) {
      this.deps.map.showTrack(null);
      return;
    }
    if (replay.track?.participantId !== participantId) {
      replay.track = { participantId, points: [] };
      const current = replay;
      void this.deps
        .api<{ points: Array<[number, number, number]> }>(`/api/races/${encodeURIComponent(raceId)}/replay/tracks/${encodeURIComponent(participantId)}`)
        .then(({ points }) => {
          if (this.replay === current && current.track?.participantId === participantId) {
            current.track.points = points;
            document.body.dataset['trackPoints'] = String(points.length);
            this.deps.render();
          }
        })
        .catch((err: unknown) => this.deps.message((err as Error).message));
    }
    const atMs = replay.atMs;
    this.deps.map.showTrack(replay.track.points.filter((p) => p[0] <= atMs).map((p) => [p[1], p[2]]));
  }

  private open(): void {
    const raceId = this.deps.raceId();
    if (raceId === null) return;
    void this.deps
      .api<ReplayData>(`/api/races/${encodeURIComponent(raceId)}/replay`)
      .then((data) => {
        if (!$<HTMLDetailsElement>('replay-panel').open || this.deps.raceId() !== raceId) return;
        const endSec = ((data.distances.length - 1) * data.stepMs) / 1000;
        const slider = $<HTMLInputElement>('replay-slider');
        slider.max = String(endSec);
        slider.disabled = false;
        $<HTMLButtonElement>('replay-play').disabled = false;
        this.replay = { data, atMs: data.startsAtMs, timer: null, track: null };
        this.showTime();
        this.deps.render();
      })
      .catch((err: unknown) => this.deps.message((err as Error).message));
  }

  private closed(): void {
    this.stopTimer();
    this.replay = null;
    $<HTMLInputElement>('replay-slider').disabled = true;
    $<HTMLButtonElement>('replay-play').disabled = true;
    $('replay-time').textContent = '';
    delete document.body.dataset['trackPoints'];
    this.deps.render();
  }

  private playOrPause(): void {
    const current = this.replay;
    if (!current) return;
    if (current.timer !== null) {
      this.stopTimer();
      return;
    }
    const endMs = current.data.startsAtMs + (current.data.distances.length - 1) * current.data.stepMs;
    if (current.atMs >= endMs) current.atMs = current.data.startsAtMs;
    $('replay-play').textContent = t('pause');
    current.timer = window.setInterval(() => {
      const speed = Number($<HTMLSelectElement>('replay-speed').value);
      current.atMs = Math.min(endMs, current.atMs + speed * 200);
      this.showTime();
      this.deps.render();
      if (current.atMs >= endMs) this.stopTimer();
    }, 200);
  }

  private stopTimer(): void {
    if (this.replay && this.replay.timer !== null) window.clearInterval(this.replay.timer);
    if (this.replay) this.replay.timer = null;
    $('replay-play').textContent = t('play');
  }

  private showTime(): void {
    const replay = this.replay;
    if (!replay) return;
    $<HTMLInputElement>('replay-slider').value = String(Math.round((replay.atMs - replay.data.startsAtMs) / 1000));
    $('replay-time').textContent = t('intoTheRace', { clock: clockTime(replay.atMs), elapsed: localDigits(formatDuration((replay.atMs - replay.data.startsAtMs) / 1000)) });
  }
}
