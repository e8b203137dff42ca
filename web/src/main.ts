// The spectator page: pick a race, watch its runners on the map, follow one. A private race is
// reached only through a link carrying its key in the fragment (/?race=…#key=…; an old link's
// ?key=… still works). The key goes to the server in the X-Race-Key header and in race:join,
// never in a query string.
import './style.css';
import { io, type Socket } from 'socket.io-client';
import { CoursePath, lapsInRace } from '../../shared/course-path.ts';
import {
  RunnerStatus,
  type Ack,
  type ClientConfig,
  type CourseGeometry,
  type LocalNames,
  type RaceSnapshot,
  type RaceSummary,
  type SpectatorClientToServerEvents,
  type SpectatorServerToClientEvents,
} from '../../shared/protocol.ts';
import { elevationLookup, estimateArrival, nextPassM, type Eta } from '../../shared/eta.ts';
import { buildResults, formatDuration, type Results } from '../../shared/results.ts';
import { decodeDelta, type RaceDelta } from '../../shared/wire.ts';
import { createRaceMap, type RaceMap, type RunnerPoint } from './map.ts';
import { ViewedRace } from './race-state.ts';
import { ResultsView } from './results-view.ts';
import { FAVOURITE_COLOUR, FOLLOWED_COLOUR, FURNITURE_COLOURS, RUNNER_COLOURS } from './colours.ts';
import { choose, clockTime, currentDigits, currentLanguage, currentUnits, distanceText, localDigits, localName, officialDistanceText, pointLabel, startI18n, statusWords, t, unitMetres } from './i18n.ts';
import { ProfileView } from './profile-view.ts';
import { ReplayPanel } from './replay-panel.ts';
import { Favourites, announce, askForNotifications } from './favourites.ts';
import { $ } from './dom.ts';
import { readSecretParam } from './secret-param.ts';

// First the key, which takes it out of the query string of an old link; then what is left there.
const raceKey = readSecretParam('key') || undefined;
const requested = new URLSearchParams(location.search).get('race');

async function api<T>(path: string): Promise<T> {
  const headers: Record<string, string> = raceKey ? { 'x-race-key': raceKey } : {};
  const response = await fetch(path, { headers });
  const body = (await response.json()) as Ack<T>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

function etaText(eta: Eta): string {
  return `${clockTime(eta.atMs)} (${clockTime(eta.earliestMs)}–${clockTime(eta.latestMs)})`;
}

/** A runner found by the search across races (docs/RESULTS.md). */
interface RunnerMatchView {
  raceId: string;
  raceName: string;
  raceNames?: LocalNames;
  participantId: string;
  bib: string;
  name: string;
  names?: LocalNames;
  position: number | null;
}

interface Viewing {
  race: ViewedRace;
  raceName: string;
  course: CourseGeometry;
  path: CoursePath;
  laps: number;
  /** Deltas that arrived while a snapshot was being fetched. */
  pending: RaceDelta[] | null;
}

async function start(): Promise<void> {
  // The words first: everything the page writes is in the chosen language.
  const language = await startI18n();
  const languageSelect = $<HTMLSelectElement>('language-select');
  languageSelect.value = language;
  languageSelect.addEventListener('change', () => choose({ language: languageSelect.value === 'fa' ? 'fa' : 'en' }));
  const unitsSelect = $<HTMLSelectElement>('units-select');
  unitsSelect.value = currentUnits();
  unitsSelect.addEventListener('change', () => choose({ units: unitsSelect.value === 'mi' ? 'mi' : 'km' }));
  const digitsSelect = $<HTMLSelectElement>('digits-select');
  $('digits-label').hidden = language !== 'fa';
  digitsSelect.value = currentDigits();
  digitsSelect.addEventListener('change', () => choose({ digits: digitsSelect.value === 'latin' ? 'latin' : 'local' }));
  const config = await api<ClientConfig>('/api/config');
  const map: RaceMap = await createRaceMap($('map'), config.basemap, { language });
  document.body.dataset['mapLibrary'] = map.library;

  const socket: Socket<SpectatorServerToClientEvents, SpectatorClientToServerEvents> = io({ transports: ['websocket'] });
  const select = $<HTMLSelectElement>('race-select');
  const followInput = $<HTMLInputElement>('follow-input');
  let viewing: Viewing | null = null;
  let followedIndex: number | null = null;
  /** A runner to follow once the race being opened has its snapshot (found by a search). */
  let followOnSnapshot: string | null = null;
  let renderQueued = false;
  const raceNames = new Map<string, string>();
  /** Where the spectator stands: metres along the drawn lap (along the race, on a street course). */
  let standLapM: number | null = null;
  const resultsView = new ResultsView();
  const favourites = new Favourites();
  const profileView = new ProfileView();

  /** The race's results, from what the page holds (docs/RESULTS.md): no request. */
  const resultsOf = (v: Viewing): Results =>
    buildResults({
      raceId: v.race.raceId,
      raceName: v.raceName,
      startsAtMs: v.race.startsAtMs,
      raceDistanceM: v.race.raceDistanceM,
      lapped: v.course.courseKind !== 'street',
      timingPoints: v.course.timingPoints,
      runners: v.race.runners,
    });

  const setMessage = (text: string): void => {
    $('message').textContent = text;
  };
  /** The replay panel (replay-panel.ts). */
  const replayPanel = new ReplayPanel({ api, map, raceId: () => viewing?.race.raceId ?? null, render: () => queueRender(), message: setMessage });

  const render = (): void => {
    renderQueued = false;
    if (!viewing) return;
    const { race, path } = viewing;
    const points: RunnerPoint[] = [];
    const replayed = replayPanel.positions(race.raceId);
    const distanceOf = new Map<number, number>();
    const replayAtMs = replayPanel.atMs;
    document.body.dataset['replayAtMs'] = replayAtMs === null ? '' : String(replayAtMs);
    for (const live of race.runners) {
      const past = replayed?.get(live.runnerIndex);
      const runner = replayed ? { ...live, distanceAlongRaceM: past?.distanceM ?? 0, status: (past?.status ?? RunnerStatus.notStarted) as typeof live.status } : live;
      // Not placed on the course yet, or out of the race: not on the map.
      if (runner.status === RunnerStatus.notStarted || runner.status === RunnerStatus.dnf || runner.status === RunnerStatus.dsq) continue;
      const [lon, lat] = path.pointAtRaceDistance(runner.distanceAlongRaceM);
      distanceOf.set(runner.runnerIndex, runner.distanceAlongRaceM);
      const favourite = favourites.has(race.raceId, runner.participantId);
      points.push({ runnerIndex: runner.runnerIndex, lon, lat, status: runner.status, followed: runner.runnerIndex === followedIndex, ...(favourite ? { colour: FAVOURITE_COLOUR } : {}) });
    }
    map.showRunners(points);
    profileView.showRunners(points.map((p) => ({ distanceAlongRaceM: distanceOf.get(p.runnerIndex) ?? 0, colour: p.followed ? FOLLOWED_COLOUR : (p.colour ?? RUNNER_COLOURS[p.status]), followed: p.followed })));
    document.body.dataset['runnersDrawn'] = String(points.length);
    document.body.dataset['seq'] = String(race.sequence);

    const leaders = $('leaders');
    leaders.replaceChildren(
      ...race.leaders(5).map((r) => {
        // A button, so the keyboard reaches it and opens it like a click.
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link';
        button.textContent = `${r.bib} ${r.name} · ${distanceText(r.distanceAlongRaceM)}`;
        button.addEventListener('click', () => follow(r.runnerIndex));
        li.append(button);
        return li;
      }),
    );
    const liveFollowed = followedIndex === null ? undefined : race.runner(followedIndex);
    const pastFollowed = liveFollowed && replayed ? replayed.get(liveFollowed.runnerIndex) : undefined;
    const followed = liveFollowed && replayed ? { ...liveFollowed, distanceAlongRaceM: pastFollowed?.distanceM ?? 0, status: (pastFollowed?.status ?? RunnerStatus.notStarted) as typeof liveFollowed.status } : liveFollowed;
    renderFavourites(followed);
    replayPanel.renderTrack(liveFollowed?.participantId ?? null);
    // (Built only when someone looks at them: the table open, or a runner followed.)
    const results = resultsView.isOpen || followed ? resultsOf(viewing) : null;
    if (results && resultsView.isOpen) resultsView.render(results);
    resultsView.renderSplits(followed && results ? results.rows.find((r) => r.runnerIndex === followed.runnerIndex) : undefined, viewing.course.timingPoints);
    $('followed').hidden = !followed;
    if (followed) {
      $('followed-name').textContent = `${followed.bib} ${followed.name}`;
      $('followed-distance').textContent = t('ofTotal', { value: distanceText(followed.distanceAlongRaceM), total: officialDistanceText(race.raceDistanceM) });
      $('followed-lap').textContent = t('ofTotal', { value: localDigits(String(race.lapOf(followed))), total: localDigits(String(viewing.laps)) });
      $('followed-status').textContent = statusWords(followed.status);
      const progress = $<HTMLProgressElement>('followed-progress');
      progress.value = Math.min(1, followed.distanceAlongRaceM / race.raceDistanceM);
      progress.setAttribute('aria-label', t('percentOfRace', { percent: localDigits(String(Math.round(progress.value * 100))) }));
      // When they will be at the finish, and where the spectator stands (docs/RESULTS.md).
      const lapped = viewing.course.courseKind !== 'street';
      const profile = viewing.course.elevationProfile;
      const etaInput = {
        startsAtMs: race.startsAtMs,
        timingPoints: viewing.course.timingPoints,
        crossings: followed.crossings,
        distanceNowM: followed.distanceAlongRaceM,
        nowMs: race.asOfMs,
        ...(profile && profile.length >= 2 ? { elevationAt: elevationLookup(profile, viewing.course.lapLengthM, lapped) } : {}),
      };
      // (Not in a replay: an arrival is predicted from now.)
      const racing = !replayed && (followed.status === RunnerStatus.onCourse || followed.status === RunnerStatus.offCourse);
      const atFinish = racing ? estimateArrival(etaInput, race.raceDistanceM) : null;
      $('followed-eta').textContent = atFinish ? t('expectedAtFinish', { eta: etaText(atFinish) }) : '';
      $('stand-label').textContent = t(lapped ? 'standLap' : currentUnits() === 'mi' ? 'standMi' : 'standKm');
      const passM = standLapM === null || !racing ? null : nextPassM(standLapM, followed.distanceAlongRaceM, viewing.course.lapLengthM, race.raceDistanceM, lapped);
      const atStand = passM === null ? null : estimateArrival(etaInput, passM);
      $('stand-eta').textContent =
        standLapM === null ? '' : atStand ? t('expectedAt', { where: distanceText(passM!), eta: etaText(atStand) }) : racing ? t('notExpected') : '';
    }
  };
  const renderFavourites = (followed: { participantId: string } | undefined): void => {
    const toggle = $<HTMLButtonElement>('favourite-toggle');
    const isFavourite = followed !== undefined && viewing !== null && favourites.has(viewing.race.raceId, followed.participantId);
    toggle.setAttribute('aria-pressed', String(isFavourite));
    toggle.textContent = t(isFavourite ? 'favouriteOn' : 'favourite');
    $('favourites-panel').hidden = favourites.all.length === 0;
    const list = $('favourites-list');
    const key = favourites.all.map((f) => `${f.raceId}/${f.participantId}`).join(',');
    if (list.dataset['key'] === key) return;
    list.dataset['key'] = key;
    list.replaceChildren(
      ...favourites.all.map((f) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link';
        button.textContent = `${f.label} · ${raceNames.get(f.raceId) ?? f.raceId}`;
        button.addEventListener('click', () => openRunner(f.raceId, f.participantId));
        li.append(button);
        return li;
      }),
    );
  };
  /** Start, finish, km markers (street courses) and the event file's places, on the map and listed. */
  const showFurniture = (course: CourseGeometry, path: CoursePath): void => {
    const lapped = course.courseKind !== 'street';
    const at = (m: number, kind: keyof typeof FURNITURE_COLOURS, major: boolean) => {
      const [lon, lat] = path.pointAtRaceDistance(m);
      return { lon, lat, colour: FURNITURE_COLOURS[kind], major };
    };
    const marks = [];
    if (!lapped) for (let m = 1000; m < course.raceDistanceM && m <= 100_000; m += 1000) marks.push(at(m, 'km', false));
    for (const p of course.pointsOfInterest) marks.push(at(p.distanceAlongRaceM, p.kind, true));
    marks.push(at(0, 'start', true), at(course.raceDistanceM, 'finish', true));
    map.showFurniture(marks);
    document.body.dataset['furniture'] = String(marks.length);
    $('course-panel').hidden = course.pointsOfInterest.length === 0;
    $('poi-list').replaceChildren(
      ...course.pointsOfInterest.map((p) => {
        const li = document.createElement('li');
        li.style.setProperty('--swatch', FURNITURE_COLOURS[p.kind]);
        li.textContent = `${p.name} · ${lapped ? `${localDigits(String(Math.round(p.distanceAlongRaceM)))} m` : officialDistanceText(p.distanceAlongRaceM)}`;
        return li;
      }),
    );
  };
  const news = (text: string): void => {
    const li = document.createElement('li');
    li.textContent = text;
    const list = $('favourite-news');
    list.prepend(li);
    while (list.children.length > 10) list.lastElementChild?.remove();
  };
  /** Follows a runner, opening their race first when it is another one. */
  const openRunner = (raceId: string, participantId: string): void => {
    if (viewing?.race.raceId === raceId) {
      const runner = viewing.race.runners.find((r) => r.participantId === participantId);
      if (runner) follow(runner.runnerIndex);
      return;
    }
    if (![...select.options].some((o) => o.value === raceId)) return;
    followOnSnapshot = participantId;
    select.value = raceId;
    select.dispatchEvent(new Event('change'));
  };
  const queueRender = (): void => {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(render);
  };

  const follow = (runnerIndex: number | null): void => {
    followedIndex = runnerIndex;
    const runner = runnerIndex === null ? undefined : viewing?.race.runner(runnerIndex);
    followInput.value = runner ? `${runner.bib} ${runner.name}` : '';
    // Found by search or by the keyboard: the map moves to them.
    if (runner && viewing && runner.status !== RunnerStatus.notStarted) map.focus(viewing.path.pointAtRaceDistance(runner.distanceAlongRaceM));
    queueRender();
  };

  const applySnapshot = (snapshot: RaceSnapshot): void => {
    if (!viewing || snapshot.raceId !== viewing.race.raceId) return;
    viewing.race.applySnapshot(snapshot);
    const pending = viewing.pending ?? [];
    viewing.pending = null;
    for (const delta of pending) viewing.race.applyDelta(delta);
    if (followOnSnapshot !== null) {
      const wanted = viewing.race.runners.find((r) => r.participantId === followOnSnapshot);
      followOnSnapshot = null;
      if (wanted) follow(wanted.runnerIndex);
    }
    queueRender();
  };

  /** A lost delta: fetch the snapshot over HTTP and continue from its sequence number. */
  const resync = async (): Promise<void> => {
    if (!viewing || viewing.pending) return;
    viewing.pending = [];
    const raceId = viewing.race.raceId;
    try {
      applySnapshot(await api<RaceSnapshot>(`/api/races/${encodeURIComponent(raceId)}/snapshot`));
    } catch (err) {
      if (viewing) viewing.pending = null;
      setMessage(`Could not resynchronise: ${(err as Error).message}`);
    }
  };

  const view = async (raceId: string): Promise<void> => {
    if (viewing) socket.emit('race:leave', { raceId: viewing.race.raceId }, () => {});
    viewing = null;
    followedIndex = null;
    standLapM = null;
    replayPanel.close();
    $<HTMLInputElement>('stand-input').value = '';
    setMessage('');
    const course = await api<CourseGeometry>(`/api/races/${encodeURIComponent(raceId)}/course`);
    const path = new CoursePath(course.lapCoordinates, { lapLengthM: course.lapLengthM });
    viewing = {
      race: new ViewedRace(raceId, course.lapLengthM, course.raceDistanceM, course.startOffsetM, course.timingPoints.length, currentLanguage()),
      raceName: raceNames.get(raceId) ?? raceId,
      course,
      path,
      laps: lapsInRace(course.lapLengthM, course.raceDistanceM, course.startOffsetM),
      pending: [],
    };
    map.showCourse(course.lapCoordinates);
    showFurniture(course, path);
    profileView.showCourse(course);
    document.body.dataset['courseDrawn'] = raceId;
    join();
  };

  const join = (): void => {
    if (!viewing) return;
    const raceId = viewing.race.raceId;
    viewing.pending = [];
    socket.emit('race:join', { raceId, ...(raceKey ? { key: raceKey } : {}) }, (result) => {
      if (!result.ok) {
        setMessage(result.message);
        return;
      }
      applySnapshot(result.data);
      const list = $('runner-list');
      list.replaceChildren(
        ...result.data.runners.map((r) => {
          const option = document.createElement('option');
          option.value = `${r.bib} ${r.name}`;
          return option;
        }),
      );
    });
  };

  socket.on('race:delta', (raceId, bytes) => {
    if (!viewing || raceId !== viewing.race.raceId) return;
    let delta: RaceDelta;
    try {
      delta = decodeDelta(bytes);
    } catch {
      void resync();
      return;
    }
    if (viewing.pending) {
      viewing.pending.push(delta);
      return;
    }
    // A crossing already known is one refined from the fixes after it: told once, not again.
    const known = new Set(delta.crossings.filter((c) => viewing!.race.runner(c.runnerIndex)?.crossings[c.pointIndex] !== undefined).map((c) => `${c.runnerIndex}:${c.pointIndex}`));
    if (viewing.race.applyDelta(delta) === 'needsSnapshot') {
      void resync();
      return;
    }
    // A favourite passed a timing point, or finished.
    for (const c of delta.crossings) {
      const runner = viewing.race.runner(c.runnerIndex);
      const point = viewing.course.timingPoints[c.pointIndex];
      if (!runner || !point || known.has(`${c.runnerIndex}:${c.pointIndex}`) || !favourites.has(viewing.race.raceId, runner.participantId)) continue;
      const at = c.sinceStartMs === null ? '' : t('inTime', { time: localDigits(formatDuration(c.sinceStartMs / 1000)) });
      announce(`${runner.bib} ${runner.name}`, point.kind === 'finish' ? t('finished', { at }) : t('passed', { point: pointLabel(point), at }), news);
    }
    queueRender();
  });
  socket.on('race:changed', ({ raceId, what }) => {
    if (!viewing || raceId !== viewing.race.raceId) return;
    // A new course: positions on the old one mean nothing; load the course and join again.
    // Anything else (a lap count set, runners moved, a new start): a fresh snapshot is enough.
    if (what !== 'course') {
      join();
      return;
    }
    const followed = followedIndex;
    void view(raceId)
      .then(() => follow(followed))
      .catch((err: unknown) => setMessage((err as Error).message));
  });
  socket.on('connect', () => {
    $('connection').textContent = t('live');
    // After a reconnection the room membership is gone: join again, which sends a snapshot.
    join();
  });
  socket.on('disconnect', () => {
    $('connection').textContent = t('reconnecting');
  });

  followInput.addEventListener('change', () => {
    const runner = viewing?.race.find(followInput.value);
    if (runner) follow(runner.runnerIndex);
    else setMessage(followInput.value ? t('noMatch', { query: followInput.value }) : '');
  });
  $('unfollow').addEventListener('click', () => follow(null));
  $('favourite-toggle').addEventListener('click', () => {
    const runner = followedIndex === null ? undefined : viewing?.race.runner(followedIndex);
    if (!viewing || !runner) return;
    if (favourites.toggle({ raceId: viewing.race.raceId, participantId: runner.participantId, label: `${runner.bib} ${runner.name}` })) askForNotifications();
    queueRender();
  });
  resultsView.onChange(queueRender);
  // Where the spectator stands: typed, or a click on the map (on the course's nearest point).
  $<HTMLFormElement>('stand-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = Number($<HTMLInputElement>('stand-input').value);
    if (!viewing || !Number.isFinite(value) || value < 0) return;
    standLapM = viewing.course.courseKind === 'street' ? value * unitMetres() : value;
    queueRender();
  });
  map.onPlaceClick((lonLat) => {
    if (!viewing) return;
    const { distanceAlongLapM, offsetM } = viewing.path.nearestLapDistance(lonLat);
    if (offsetM > 200) return; // not near the course
    standLapM = distanceAlongLapM;
    $<HTMLInputElement>('stand-input').value = viewing.course.courseKind === 'street' ? (distanceAlongLapM / unitMetres()).toFixed(2) : distanceAlongLapM.toFixed(0);
    queueRender();
  });
  $('results-panel').addEventListener('toggle', queueRender);
  resultsView.followWith((participantId) => {
    const runner = viewing?.race.runners.find((r) => r.participantId === participantId);
    if (runner) follow(runner.runnerIndex);
  });
  // The export over HTTP, with the key in a header (never in a link's query string).
  $('results-csv').addEventListener('click', () => {
    if (!viewing) return;
    const raceId = viewing.race.raceId;
    const category = $<HTMLSelectElement>('results-category').value;
    const query = new URLSearchParams({ format: 'csv', ...(category ? { category } : {}) });
    void fetch(`/api/races/${encodeURIComponent(raceId)}/results?${query.toString()}`, { headers: raceKey ? { 'x-race-key': raceKey } : {} })
      .then(async (response) => {
        if (!response.ok) throw new Error(`the export failed (${response.status})`);
        const link = document.createElement('a');
        link.href = URL.createObjectURL(await response.blob());
        link.download = `${raceId}${category ? `-${category}` : ''}-results.csv`;
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      })
      .catch((err: unknown) => setMessage((err as Error).message));
  });
  // A runner in any race one may see: open their race and follow them.
  $<HTMLFormElement>('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $<HTMLInputElement>('search-input').value.trim();
    if (!q) return;
    void api<{ matches: RunnerMatchView[] }>(`/api/results/search?${new URLSearchParams({ q }).toString()}`)
      .then(({ matches }) => {
        $('search-results').hidden = false;
        const list = $('search-list');
        if (matches.length === 0) {
          const li = document.createElement('li');
          li.textContent = t('noMatch', { query: q });
          list.replaceChildren(li);
          return;
        }
        list.replaceChildren(
          ...matches.map((m) => {
            const li = document.createElement('li');
            const button = document.createElement('button');
            button.type = 'button';
            button.className = 'link';
            const raceName = localName({ name: m.raceName, ...(m.raceNames ? { names: m.raceNames } : {}) });
            button.textContent = `${m.bib} ${localName(m)} · ${raceName}${m.position === null ? '' : ` · #${localDigits(String(m.position))}`}`;
            button.addEventListener('click', () => openRunner(m.raceId, m.participantId));
            li.append(button);
            return li;
          }),
        );
      })
      .catch((err: unknown) => setMessage((err as Error).message));
  });
  map.onRunnerClick((runnerIndex) => follow(runnerIndex));

  const { eventName, races } = await api<{ eventName: string; races: RaceSummary[] }>('/api/races');
  $('event-name').textContent = eventName;
  for (const r of races) raceNames.set(r.raceId, localName(r));
  document.title = `${eventName} · live`;
  let startupMessage = '';
  if (requested && !races.some((r) => r.raceId === requested)) {
    // A private race is not listed; it is reachable with its key.
    try {
      const summary = await api<RaceSummary>(`/api/races/${encodeURIComponent(requested)}`);
      races.push(summary);
      raceNames.set(summary.raceId, localName(summary));
    } catch (err) {
      startupMessage = `“${requested}”: ${(err as Error).message}.`;
    }
  }
  select.replaceChildren(
    ...races.map((r) => {
      const option = document.createElement('option');
      option.value = r.raceId;
      option.textContent = r.isPrivate ? `${localName(r)}${t('org.private')}` : localName(r);
      return option;
    }),
  );
  const initial = races.find((r) => r.raceId === requested) ?? races[0];
  select.addEventListener('change', () => {
    // The race in the query; the fragment (the key, if any) stays as it is.
    const url = new URL(location.href);
    url.searchParams.set('race', select.value);
    history.replaceState(history.state, '', url.href);
    void view(select.value).catch((err: unknown) => setMessage((err as Error).message));
  });
  if (initial) {
    select.value = initial.raceId;
    await view(initial.raceId);
  }
  if (startupMessage) setMessage(startupMessage);
}

start().catch((err: unknown) => {
  const message = document.getElementById('message');
  if (message) message.textContent = `The map could not start: ${(err as Error).message}`;
});
