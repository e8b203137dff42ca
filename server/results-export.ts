// A race's results as the HTTP export serves them (JSON and CSV), and the search for a runner by
// bib or name across the races a viewer may see (docs/RESULTS.md). Built from the race's snapshot
// with shared/results.ts, the same code the spectator page builds its live table with.
import { stringify } from 'csv-stringify/sync';
import { buildResults, categoryRows, formatDuration, type ResultRow, type Results } from '../shared/results.ts';
import type { LocalNames } from '../shared/protocol.ts';
import type { RaceEntry, RaceService } from './race-service.ts';

/**
 * A race's results are built at most once per delta and second, however many ask (a search runs
 * over every race; a results page is reloaded by many spectators at the finish).
 */
const recent = new WeakMap<RaceEntry, { seq: number; tracker: unknown; atMs: number; results: Results }>();
const KEEP_MS = 1000;

export function resultsOf(service: RaceService, race: RaceEntry): Results {
  const cached = recent.get(race);
  const nowMs = Date.now();
  if (cached && cached.tracker === race.tracker && cached.seq === race.tracker.sequence && nowMs - cached.atMs < KEEP_MS) return cached.results;
  const results = buildResultsOf(service, race);
  recent.set(race, { seq: race.tracker.sequence, tracker: race.tracker, atMs: nowMs, results });
  return results;
}

function buildResultsOf(service: RaceService, race: RaceEntry): Results {
  const snapshot = service.snapshot(race);
  const { course } = race.tracker;
  return buildResults({
    raceId: race.raceId,
    raceName: race.name,
    startsAtMs: snapshot.startsAtMs,
    raceDistanceM: course.raceDistanceM,
    lapped: course.isLapped,
    timingPoints: race.tracker.timingPoints,
    runners: snapshot.runners,
  });
}

/** Rows of one category placed within it, or all rows. */
export type ExportRow = ResultRow & { categoryPosition?: number | null };

export function rowsFor(results: Results, category: string | undefined): ExportRow[] {
  return category === undefined ? results.rows : categoryRows(results, category);
}

const time = (sec: number | null): string => (sec === null ? '' : formatDuration(sec, true));

/**
 * A cell a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) gets a
 * leading apostrophe: a participant's name is not a way into the organiser's spreadsheet.
 */
function cell(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * Results as CSV (RFC 4180, a header row, UTF-8 with a byte-order mark so spreadsheets read
 * Persian names right): one row per runner, one column per timing point with the time it was
 * passed (h:mm:ss.t since the start).
 */
export function resultsCsv(results: Results, rows: readonly ExportRow[], withCategoryPosition: boolean): string {
  const header = [
    'position',
    ...(withCategoryPosition ? ['category_position'] : []),
    'bib',
    'name',
    'categories',
    'status',
    'distance_m',
    ...(results.lapped ? ['laps'] : []),
    'last_point',
    'last_point_time',
    'last_split',
    'gap',
    'finish_time',
    'net_time',
    ...results.timingPoints.map((p) => p.name),
  ];
  const records = rows.map((row) => [
    row.position ?? '',
    ...(withCategoryPosition ? [row.categoryPosition ?? ''] : []),
    cell(row.bib),
    cell(row.name),
    cell(row.categories.join(' ')),
    row.status,
    row.distanceAlongRaceM.toFixed(1),
    ...(results.lapped ? [row.lapsCompleted ?? ''] : []),
    cell(row.lastPoint?.name ?? ''),
    time(row.lastPoint?.sinceStartSec ?? null),
    time(row.lastSplitSec),
    row.gapSec === null ? '' : (row.gapSec > 0 ? '+' : '') + formatDuration(row.gapSec, true),
    time(row.finishSec),
    time(row.netSec),
    ...results.timingPoints.map((_, k) => (row.splits[k] ? time(row.splits[k].sinceStartSec) : '')),
  ]);
  return '\ufeff' + stringify([header, ...records], { record_delimiter: 'windows' });
}

export interface RunnerMatch {
  raceId: string;
  raceName: string;
  raceNames?: LocalNames;
  participantId: string;
  bib: string;
  name: string;
  names?: LocalNames;
  categories: string[];
  position: number | null;
  status: ResultRow['status'];
  distanceAlongRaceM: number;
}

/** Letters compared without case, accents or the Arabic/Persian forms of the same letter. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[يى]/g, 'ی')
    .replace(/ك/g, 'ک')
    .toLocaleLowerCase('en')
    .trim();
}

/**
 * Runners whose bib is the query, or whose name contains it, in the races given (those the
 * viewer may see), bibs first; at most `limit`.
 */
export function searchRunners(service: RaceService, races: readonly RaceEntry[], query: string, limit: number): RunnerMatch[] {
  const q = fold(query);
  const byBib: RunnerMatch[] = [];
  const byName: RunnerMatch[] = [];
  for (const race of races) {
    const results = resultsOf(service, race);
    // (A name given in two scripts is found by either.)
    const namesOf = new Map(race.tracker.everParticipants.filter((p) => p.names).map((p) => [p.participantId, p.names!]));
    for (const row of results.rows) {
      const bibMatch = fold(row.bib) === q;
      const names = namesOf.get(row.participantId);
      if (!bibMatch && ![row.name, ...Object.values(names ?? {})].some((name) => fold(name).includes(q))) continue;
      const match: RunnerMatch = {
        raceId: race.raceId,
        raceName: race.name,
        ...(race.names ? { raceNames: race.names } : {}),
        participantId: row.participantId,
        bib: row.bib,
        name: row.name,
        ...(names ? { names } : {}),
        categories: row.categories,
        position: row.position,
        status: row.status,
        distanceAlongRaceM: row.distanceAlongRaceM,
      };
      (bibMatch ? byBib : byName).push(match);
    }
  }
  return [...byBib, ...byName].slice(0, limit);
}
