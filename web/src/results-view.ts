// The spectator page's results table: built from the race's snapshot and deltas (no request of
// its own), sortable, filtered by category or by bib and name, a row opened with a click or the
// keyboard to follow that runner; and the followed runner's splits. docs/RESULTS.md.
import { categoriesOf, formatDuration, type ResultRow, type Results } from '../../shared/results.ts';
import { $ } from './dom.ts';
import type { TimingPoint } from '../../shared/protocol.ts';
import { distanceText, localDigits, paceText, pointLabel, t } from './i18n.ts';

type SortKey = 'position' | 'bib' | 'name' | 'distance' | 'finish';

const statusKey = {
  finished: 'status.finished',
  racing: 'result.racing',
  'off course': 'status.offCourse',
  'not started': 'status.notStarted',
  dnf: 'status.dnf',
  dsq: 'status.dsq',
} as const satisfies Record<ResultRow['status'], string>;

const time = (sec: number | null): string => (sec === null ? '' : localDigits(formatDuration(sec)));

export class ResultsView {
  private sortKey: SortKey = 'position';
  private ascending = true;
  private categories = '';
  private onFollow: (participantId: string) => void = () => {};

  constructor() {
    for (const button of document.querySelectorAll<HTMLButtonElement>('#results-table th button[data-sort]')) {
      button.addEventListener('click', () => {
        const key = button.dataset['sort'] as SortKey;
        this.ascending = this.sortKey === key ? !this.ascending : true;
        this.sortKey = key;
        this.changed();
      });
    }
    $('results-category').addEventListener('change', () => this.changed());
    $('results-filter').addEventListener('input', () => this.changed());
    $('results-body').addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-participant]');
      if (button) this.onFollow(button.dataset['participant']!);
    });
  }

  /** Called when the user asks to follow a runner from the table. */
  followWith(callback: (participantId: string) => void): void {
    this.onFollow = callback;
  }

  /** Whether the table is open (it is built only then). */
  get isOpen(): boolean {
    return $<HTMLDetailsElement>('results-panel').open;
  }

  private changed: () => void = () => {};

  /** What to call when a control changes the table. */
  onChange(callback: () => void): void {
    this.changed = callback;
  }

  private raceDistanceM = 1;
  private points: readonly TimingPoint[] = [];

  /** A timing point's name in the page's language (the server's own names are English). */
  private pointName(pointIndex: number, fallback: string): string {
    const point = this.points[pointIndex];
    return point ? pointLabel(point) : fallback;
  }

  render(results: Results): void {
    this.raceDistanceM = results.raceDistanceM;
    this.points = results.timingPoints;
    this.renderCategories(categoriesOf(results));
    const category = $<HTMLSelectElement>('results-category').value;
    const query = $<HTMLInputElement>('results-filter').value.trim().toLowerCase();
    let place = 0;
    const rows = results.rows
      .filter((row) => category === '' || row.categories.includes(category))
      .map((row) => ({ row, categoryPosition: category !== '' && row.position !== null ? ++place : null }))
      .filter(({ row }) => query === '' || row.bib.toLowerCase() === query || row.name.toLowerCase().includes(query));
    const direction = this.ascending ? 1 : -1;
    const nullsLast = (a: number | null, b: number | null) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : direction * (a - b));
    rows.sort((a, b) => {
      switch (this.sortKey) {
        case 'bib':
          return direction * a.row.bib.localeCompare(b.row.bib, undefined, { numeric: true });
        case 'name':
          return direction * a.row.name.localeCompare(b.row.name);
        case 'distance':
          return direction * (b.row.distanceAlongRaceM - a.row.distanceAlongRaceM);
        case 'finish':
          return nullsLast(a.row.finishSec, b.row.finishSec);
        default:
          return nullsLast(a.row.position, b.row.position);
      }
    });
    for (const th of document.querySelectorAll<HTMLTableCellElement>('#results-table th')) {
      const key = th.querySelector<HTMLButtonElement>('button[data-sort]')?.dataset['sort'];
      if (key === this.sortKey) th.setAttribute('aria-sort', this.ascending ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    $('results-distance-head').textContent = t(results.lapped ? 'laps' : 'distance');
    $('results-body').replaceChildren(...rows.map(({ row, categoryPosition }) => this.rowElement(row, categoryPosition, results.lapped)));
    $('results-count').textContent = t('ofTotal', { value: localDigits(String(rows.length)), total: localDigits(String(results.rows.length)) });
  }

  private renderCategories(categories: string[]): void {
    const select = $<HTMLSelectElement>('results-category');
    const key = categories.join('\n');
    if (key === this.categories) return;
    this.categories = key;
    const chosen = select.value;
    const all = document.createElement('option');
    all.value = '';
    all.textContent = t('all');
    select.replaceChildren(
      all,
      ...categories.map((c) => {
        const option = document.createElement('option');
        option.value = option.textContent = c;
        return option;
      }),
    );
    select.value = categories.includes(chosen) ? chosen : '';
    $('results-category-label').hidden = categories.length === 0;
  }

  private rowElement(row: ResultRow, categoryPosition: number | null, lapped: boolean): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset['participant'] = row.participantId;
    const cells: Array<string | HTMLElement> = [
      localDigits(row.position === null ? '' : categoryPosition === null ? String(row.position) : `${categoryPosition} (${row.position})`),
      row.bib,
      followButton(row),
      row.categories.join(' '),
      lapped ? localDigits(String(row.lapsCompleted ?? 0)) : distanceText(row.distanceAlongRaceM),
      row.lastPoint ? `${this.pointName(row.lastPoint.pointIndex, row.lastPoint.name)} ${time(row.lastSplitSec)}` : '',
      row.gapSec === null ? '' : row.gapSec === 0 ? '–' : `+${time(row.gapSec)}`,
      time(row.finishSec),
      t(statusKey[row.status]),
    ];
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = Math.min(1, row.distanceAlongRaceM / this.raceDistanceM);
    progress.setAttribute('aria-label', t('percentOfRace', { percent: localDigits(String(Math.round(progress.value * 100))) }));
    cells.push(progress);
    for (const content of cells) {
      const td = document.createElement('td');
      if (typeof content === 'string') td.textContent = content;
      else td.append(content);
      tr.append(td);
    }
    return tr;
  }

  /** The followed runner's splits: each point passed, when, the split as a pace, the place there. */
  renderSplits(row: ResultRow | undefined, points: readonly TimingPoint[]): void {
    this.points = points;
    const body = $('followed-splits-body');
    $('followed-splits').hidden = !row || row.splits.length === 0;
    $('followed-finish').textContent =
      !row || row.finishSec === null ? '' : t('finishedIn', { time: localDigits(formatDuration(row.finishSec, true)), position: row.position === null ? '–' : localDigits(String(row.position)) });
    if (!row) {
      body.replaceChildren();
      return;
    }
    body.replaceChildren(
      ...row.splits.map((split) => {
        const tr = document.createElement('tr');
        for (const text of [
          this.pointName(split.pointIndex, split.name),
          split.sinceStartSec === null ? '–' : time(split.sinceStartSec),
          // (On a loop or track, a lap's split is its lap time.)
          time(split.splitSec),
          split.paceSecPerKm === null ? '' : paceText(split.paceSecPerKm),
          split.position === null ? '' : localDigits(String(split.position)),
        ]) {
          const td = document.createElement('td');
          td.textContent = text;
          tr.append(td);
        }
        return tr;
      }),
    );
  }
}

function followButton(row: ResultRow): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.dataset['participant'] = row.participantId;
  button.textContent = row.name;
  button.setAttribute('aria-label', t('followRunner', { runner: `${row.bib} ${row.name}` }));
  return button;
}
