// The organiser console (/organiser.html): every race at once, private ones included, runners
// coloured by race, road sections coloured by state with their predicted reopening, the alerts,
// and the changes organisers make at short notice. Everything needs the organiser token, which the
// server checks on every request; the page keeps it for this browser tab only.
import '../style.css';
import './organiser.css';
import { io, type Socket } from 'socket.io-client';
import { CoursePath } from '../../../shared/course-path.ts';
import type {
  Ack,
  Alert,
  ClientConfig,
  CourseGeometry,
  RaceSnapshot,
  RaceSummary,
  SectionStatus,
  SpectatorClientToServerEvents,
  SpectatorServerToClientEvents,
} from '../../../shared/protocol.ts';
import { decodeDelta } from '../../../shared/wire.ts';
import { $ } from '../dom.ts';
import { createRaceMap, type RunnerPoint } from '../map.ts';
import { ViewedRace } from '../race-state.ts';
import { readSecretParam } from '../secret-param.ts';
import { clockTime, currentLanguage, distanceText, localDigits, localName, preferenceControls, startI18n, t } from '../i18n.ts';

const RACE_COLOURS = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#c2255c', '#0c8599', '#5c940d', '#f08c00'];
/** The same colours as the state badges (organiser.css). */
const STATE_COLOURS: Record<SectionStatus['state'], string> = {
  waiting: '#868e96',
  inUse: '#e8590c',
  clearBehindLast: '#f08c00',
  readyToReopen: '#2f9e44',
  reopened: '#1c7ed6',
};

// From the link (#token=…, or an old link's ?token=…), else the one this tab opened with before.
// It goes to the server as "Authorization: Bearer" and in Socket.IO's auth, never in a query string.
let token = readSecretParam('token') || sessionStorage.getItem('organiserToken') || '';

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const body = (await response.json()) as Ack<T>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

const time = (ms: number | null): string => (ms === null ? '–' : clockTime(ms).slice(0, -3));

async function open(): Promise<void> {
  await api('/api/organiser/devices'); // fails fast with a clear message on a wrong token
  sessionStorage.setItem('organiserToken', token);
  $('login').hidden = true;
  const config = await api<ClientConfig>('/api/config');
  const { eventName, races } = await api<{ eventName: string; races: RaceSummary[] }>('/api/races');
  $('event-name').textContent = t('org.eventTitle', { event: eventName });
  const map = await createRaceMap($('map'), config.basemap, { language: currentLanguage() });
  const viewed = new Map<string, { race: ViewedRace; path: CoursePath; colour: string; course: CourseGeometry }>();
  for (const [i, race] of races.entries()) {
    const course = await api<CourseGeometry>(`/api/races/${encodeURIComponent(race.raceId)}/course`);
    viewed.set(race.raceId, {
      race: new ViewedRace(race.raceId, course.lapLengthM, course.raceDistanceM),
      path: new CoursePath(course.lapCoordinates, { lapLengthM: course.lapLengthM }),
      colour: RACE_COLOURS[i % RACE_COLOURS.length]!,
      course,
    });
  }
  map.showCourses([...viewed.values()].map((v) => ({ lapCoordinates: v.course.lapCoordinates, colour: v.colour })));
  $('races').replaceChildren(
    ...races.map((r) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = viewed.get(r.raceId)!.colour;
      // The race's name zooms the map to its course: at the overview's zoom a stadium track or a
      // park loop is a dot beside a marathon.
      const zoom = document.createElement('button');
      zoom.type = 'button';
      zoom.className = 'link';
      zoom.dataset['race'] = r.raceId;
      zoom.textContent = localName(r);
      zoom.setAttribute('aria-label', t('org.showRace', { race: localName(r) }));
      zoom.addEventListener('click', () => map.fitTo(viewed.get(r.raceId)!.course.lapCoordinates));
      li.append(swatch, zoom, t('org.raceLine', { race: '', private: r.isPrivate ? t('org.private') : '', count: localDigits(String(r.participantCount)) }));
      return li;
    }),
  );

  $('show-all').addEventListener('click', () => map.fitTo([...viewed.values()].flatMap((v) => v.course.lapCoordinates)));

  const render = (): void => {
    const points: RunnerPoint[] = [];
    for (const { race, path, colour } of viewed.values()) {
      for (const runner of race.runners) {
        if (runner.status === 0 || runner.status >= 4) continue;
        const [lon, lat] = path.pointAtRaceDistance(runner.distanceAlongRaceM);
        points.push({ runnerIndex: runner.runnerIndex, lon, lat, status: runner.status, followed: false, colour });
      }
    }
    map.showRunners(points);
    document.body.dataset['runnersDrawn'] = String(points.length);
  };

  const socket: Socket<SpectatorServerToClientEvents, SpectatorClientToServerEvents> = io({
    transports: ['websocket'],
    auth: { organiserToken: token },
  });
  const join = (raceId: string): void => {
    socket.emit('race:join', { raceId }, (result) => {
      if (result.ok) applySnapshot(result.data);
    });
  };
  const applySnapshot = (snapshot: RaceSnapshot): void => {
    viewed.get(snapshot.raceId)?.race.applySnapshot(snapshot);
    render();
  };
  socket.on('connect', () => {
    $('connection').textContent = t('live');
    for (const raceId of viewed.keys()) join(raceId);
  });
  socket.on('disconnect', () => {
    $('connection').textContent = t('reconnecting');
  });
  socket.on('race:delta', (raceId, bytes) => {
    const entry = viewed.get(raceId);
    if (!entry) return;
    if (entry.race.applyDelta(decodeDelta(bytes)) === 'needsSnapshot') join(raceId);
    render();
  });
  socket.on('race:changed', ({ raceId }) => join(raceId));

  // Alerts: the list at start, then every new or changed one as it happens.
  const alerts = new Map<string, Alert>();
  const renderAlerts = (): void => {
    const items = [...alerts.values()].sort((a, b) => Number(a.state === 'resolved') - Number(b.state === 'resolved') || b.updatedAtMs - a.updatedAtMs);
    $('alerts').replaceChildren(
      ...items.slice(0, 100).map((alert) => {
        const li = document.createElement('li');
        li.className = `alert-${alert.state}`;
        const where = alert.distanceAlongRaceM === null ? '' : t('org.alertAt', { distance: distanceText(alert.distanceAlongRaceM) });
        li.append(`${time(alert.raisedAtMs)} ${t(`alert.${alert.kind}`)}${alert.active ? '' : t('org.alertOver')}: ${alert.bib} ${alert.name}, ${alert.raceId}${where} `);
        const actions = alert.state === 'open' ? (['acknowledge', 'resolve'] as const) : alert.state === 'acknowledged' ? (['resolve'] as const) : [];
        for (const action of actions) {
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = t(`org.${action}`);
          button.addEventListener('click', () => {
            void api<Alert>(`/api/organiser/alerts/${alert.alertId}/${action}`, { method: 'POST' }).then((updated) => {
              alerts.set(updated.alertId, updated);
              renderAlerts();
            });
          });
          li.append(button);
        }
        return li;
      }),
    );
    document.body.dataset['openAlerts'] = String(items.filter((a) => a.state === 'open').length);
  };
  for (const alert of (await api<{ alerts: Alert[] }>('/api/organiser/alerts')).alerts) alerts.set(alert.alertId, alert);
  socket.on('alert', (alert) => {
    alerts.set(alert.alertId, alert);
    renderAlerts();
  });
  renderAlerts();

  // Road sections, refreshed every two seconds.
  const refreshSections = async (): Promise<void> => {
    const { sections } = await api<{ sections: SectionStatus[] }>('/api/organiser/sections');
    map.showSections(
      sections.flatMap((s) =>
        s.spans.flatMap((span) => {
          const v = viewed.get(span.raceId);
          return v ? [{ coordinates: v.path.lapSlice(span.fromM, span.toM), colour: STATE_COLOURS[s.state] }] : [];
        }),
      ),
    );
    $('sections').replaceChildren(
      ...sections.map((s) => {
        const row = document.createElement('tr');
        row.dataset['section'] = s.sectionId;
        row.dataset['state'] = s.state;
        const cells = [s.name, '', localDigits(String(s.runnersOn)), s.state === 'readyToReopen' || s.state === 'reopened' ? '' : time(s.predictedReadyAtMs)];
        for (const text of cells) {
          const td = document.createElement('td');
          td.textContent = text;
          row.append(td);
        }
        const badge = document.createElement('span');
        badge.className = `state state-${s.state}`;
        badge.textContent = t(`state.${s.state}`);
        row.children[1]!.append(badge);
        const actions = document.createElement('td');
        if (s.state !== 'reopened') {
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = t('org.reopen');
          button.disabled = s.state !== 'readyToReopen';
          button.addEventListener('click', () => void api(`/api/organiser/sections/${s.sectionId}/reopen`, { method: 'POST' }).then(refreshSections));
          actions.append(button);
        }
        row.append(actions);
        return row;
      }),
    );
  };
  await refreshSections();
  setInterval(() => void refreshSections().catch(() => {}), 2000);

  // Changes at short notice: start time, who may watch, a new course; moving a runner.
  const raceOptions = (): HTMLOptionElement[] =>
    races.map((r) => {
      const option = document.createElement('option');
      option.value = r.raceId;
      option.textContent = localName(r);
      return option;
    });
  $('change-race').replaceChildren(...raceOptions());
  const privacy = new Map(races.map((r) => [r.raceId, r.isPrivate]));
  const showPrivacy = (): void => {
    ($('change-private') as HTMLInputElement).checked = privacy.get(($('change-race') as HTMLSelectElement).value) ?? false;
  };
  const clearChangeForm = (): void => {
    for (const id of ['change-start', 'change-key', 'change-course']) ($(id) as HTMLInputElement).value = '';
    ($('change-kind') as HTMLSelectElement).value = '';
  };
  $('change-race').addEventListener('change', () => {
    clearChangeForm();
    showPrivacy();
  });
  showPrivacy();
  $('move-race').replaceChildren(...raceOptions());
  const report = (text: string): void => {
    $('message').textContent = text;
  };
  $('race-change').addEventListener('submit', (event) => {
    event.preventDefault();
    const raceId = ($('change-race') as HTMLSelectElement).value;
    const start = ($('change-start') as HTMLInputElement).value;
    const key = ($('change-key') as HTMLInputElement).value.trim();
    const wantsPrivate = ($('change-private') as HTMLInputElement).checked;
    // Only what the organiser changed is sent: the box shows the race as it is.
    const change: Record<string, unknown> = wantsPrivate === privacy.get(raceId) ? {} : { private: wantsPrivate };
    if (start) change['startsAt'] = new Date(start).toISOString();
    if (key) change['key'] = key;
    const file = ($('change-course') as HTMLInputElement).files?.[0];
    const kind = ($('change-kind') as HTMLSelectElement).value;
    void (async () => {
      try {
        const summary = await api<RaceSummary>(`/api/organiser/races/${encodeURIComponent(raceId)}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(change),
        });
        privacy.set(raceId, summary.isPrivate);
        clearChangeForm();
        if (file) {
          const isGpx = file.name.toLowerCase().endsWith('.gpx');
          await api(`/api/organiser/races/${encodeURIComponent(raceId)}/course${kind ? `?kind=${kind}` : ''}`, {
            method: 'PUT',
            headers: { 'content-type': isGpx ? 'application/gpx+xml' : 'application/geo+json' },
            body: await file.text(),
          });
        }
        report(t('org.changed', { race: raceId }));
      } catch (err) {
        report(`${raceId}: ${(err as Error).message}`);
      }
    })();
  });
  $('move').addEventListener('submit', (event) => {
    event.preventDefault();
    const participantId = ($('move-participant') as HTMLInputElement).value.trim();
    const raceId = ($('move-race') as HTMLSelectElement).value;
    void api(`/api/organiser/participants/${encodeURIComponent(participantId)}/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ raceId }),
    })
      .then(() => report(t('org.moved', { participant: participantId, race: raceId })))
      .catch((err: unknown) => report((err as Error).message));
  });

  $('outcome').addEventListener('submit', (event) => {
    event.preventDefault();
    const participantId = ($('outcome-participant') as HTMLInputElement).value.trim();
    const outcome = ($('outcome-kind') as HTMLSelectElement).value;
    void api(`/api/organiser/participants/${encodeURIComponent(participantId)}/outcome`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome }),
    })
      .then(() => {
        $('message').textContent = `${participantId}: ${outcome}`;
      })
      .catch((err: unknown) => {
        $('message').textContent = (err as Error).message;
      });
  });
  document.body.dataset['ready'] = '1';
}

// The words first: everything the console writes is in the chosen language. (The login form is
// answered at once, so that a token typed before the words are ready is not sent as a form.)
const ready = startI18n().then(() => {
  document.title = t('org.title');
  $('preferences').replaceChildren(preferenceControls());
});
const failed = (err: unknown): void => {
  $('message').textContent = t('org.couldNotOpen', { reason: (err as Error).message });
};
$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  token = ($('token') as HTMLInputElement).value.trim();
  ready.then(open).catch(failed);
});
if (token) {
  ready.then(open).catch((err: unknown) => {
    sessionStorage.removeItem('organiserToken');
    failed(err);
  });
}
