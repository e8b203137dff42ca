// Following one runner through a private live link (/follow.html#link=…; an old link's ?link=…
// still works): their position on the course and nothing else of the race. The link goes to the
// server only inside the follow:join event, never in a query string.
import '../style.css';
import { io, type Socket } from 'socket.io-client';
import { CoursePath, lapNumber, lapsInRace } from '../../../shared/course-path.ts';
import {
  type Ack,
  type ClientConfig,
  type FollowSnapshot,
  type RunnerStatusCode,
  type SpectatorClientToServerEvents,
  type SpectatorServerToClientEvents,
} from '../../../shared/protocol.ts';
import { decodeDelta } from '../../../shared/wire.ts';
import { createRaceMap } from '../map.ts';
import { dateTime, distanceText, localName, localDigits, officialDistanceText, preferenceControls, startI18n, statusWords, t } from '../i18n.ts';
import { $ } from '../dom.ts';
import { readSecretParam } from '../secret-param.ts';

const link = readSecretParam('link') ?? '';

async function start(): Promise<void> {
  const language = await startI18n();
  document.title = t('follow.title');
  $('preferences').replaceChildren(preferenceControls());
  const config = (await (await fetch('/api/config')).json()) as Ack<ClientConfig>;
  if (!config.ok) throw new Error(config.message);
  const map = await createRaceMap($('map'), config.data.basemap, { language });
  const socket: Socket<SpectatorServerToClientEvents, SpectatorClientToServerEvents> = io({ transports: ['websocket'] });
  let path: CoursePath | null = null;
  let followed: FollowSnapshot | null = null;
  let seq = -1;

  const show = (distanceAlongRaceM: number, status: RunnerStatusCode): void => {
    if (!path || !followed) return;
    const { course, runner } = followed;
    $('distance').textContent = t('follow.ofTotal', { value: distanceText(distanceAlongRaceM), total: officialDistanceText(course.raceDistanceM) });
    $('lap').textContent = t('follow.ofTotal', {
      value: localDigits(String(lapNumber(distanceAlongRaceM, course.lapLengthM, course.raceDistanceM, course.startOffsetM))),
      total: localDigits(String(lapsInRace(course.lapLengthM, course.raceDistanceM, course.startOffsetM))),
    });
    $('status').textContent = statusWords(status);
    if (status === 0) return map.showRunners([]);
    const [lon, lat] = path.pointAtRaceDistance(distanceAlongRaceM);
    map.showRunners([{ runnerIndex: runner.runnerIndex, lon, lat, status, followed: true }]);
    document.body.dataset['runnerDrawn'] = '1';
    document.body.dataset['distance'] = String(distanceAlongRaceM);
  };

  const join = (): void => {
    socket.emit('follow:join', { link }, (result) => {
      if (!result.ok) {
        $('message').textContent = result.message;
        document.body.dataset['refused'] = result.code;
        return;
      }
      followed = result.data;
      seq = result.data.seq;
      path = new CoursePath(result.data.course.lapCoordinates, { lapLengthM: result.data.course.lapLengthM });
      $('who').textContent = `${result.data.runner.bib} ${localName(result.data.runner)}`;
      $('race').textContent = localName({ name: result.data.raceName, ...(result.data.raceNames ? { names: result.data.raceNames } : {}) });
      $('expires').textContent = dateTime(result.data.linkExpiresAtMs);
      map.showCourse(result.data.course.lapCoordinates);
      show(result.data.runner.distanceAlongRaceM, result.data.runner.status);
    });
  };
  socket.on('follow:delta', (_raceId, bytes) => {
    const delta = decodeDelta(bytes);
    // Only this runner's moves arrive, so sequence numbers skip: keep the newest.
    if (delta.seq <= seq) return;
    seq = delta.seq;
    const entry = delta.entries[0];
    if (entry) show(entry.distanceAlongRaceM, entry.status);
  });
  socket.on('follow:ended', (reason) => {
    $('message').textContent = reason.message;
    $('connection').textContent = t('follow.ended');
    document.body.dataset['refused'] = reason.code;
  });
  socket.on('race:changed', () => join());
  socket.on('connect', () => {
    $('connection').textContent = t('live');
    join();
  });
  socket.on('disconnect', () => {
    $('connection').textContent = t('reconnecting');
  });
}

start().catch((err: unknown) => {
  $('message').textContent = t('couldNotStart', { reason: (err as Error).message });
});
