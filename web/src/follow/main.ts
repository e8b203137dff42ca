// Following one runner through a private live link (/follow.html#link=…; an old link's ?link=…
// still works): their position on the course and nothing else of the race. The link goes to the
// server only inside the follow:join event, never in a query string.
import '../style.css';
import { io, type Socket } from 'socket.io-client';
import { CoursePath, lapNumber, lapsInRace } from '../../../shared/course-path.ts';
import {
  runnerStatusNames,
  type Ack,
  type ClientConfig,
  type FollowSnapshot,
  type RunnerStatusCode,
  type SpectatorClientToServerEvents,
  type SpectatorServerToClientEvents,
} from '../../../shared/protocol.ts';
import { decodeDelta } from '../../../shared/wire.ts';
import { createRaceMap } from '../map.ts';
import { $ } from '../dom.ts';
import { readSecretParam } from '../secret-param.ts';

const link = readSecretParam('link') ?? '';

async function start(): Promise<void> {
  const config = (await (await fetch('/api/config')).json()) as Ack<ClientConfig>;
  if (!config.ok) throw new Error(config.message);
  const map = await createRaceMap($('map'), config.data.basemap);
  const socket: Socket<SpectatorServerToClientEvents, SpectatorClientToServerEvents> = io({ transports: ['websocket'] });
  let path: CoursePath | null = null;
  let followed: FollowSnapshot | null = null;
  let seq = -1;

  const show = (distanceAlongRaceM: number, status: RunnerStatusCode): void => {
    if (!path || !followed) return;
    const { course, runner } = followed;
    $('distance').textContent = `${(distanceAlongRaceM / 1000).toFixed(2)} km of ${Number((course.raceDistanceM / 1000).toFixed(3))} km`;
    $('lap').textContent = `${lapNumber(distanceAlongRaceM, course.lapLengthM, course.raceDistanceM, course.startOffsetM)} of ${lapsInRace(course.lapLengthM, course.raceDistanceM, course.startOffsetM)}`;
    $('status').textContent = runnerStatusNames[status];
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
      $('who').textContent = `${result.data.runner.bib} ${result.data.runner.name}`;
      $('race').textContent = result.data.raceName;
      $('expires').textContent = new Date(result.data.linkExpiresAtMs).toLocaleString(undefined, { hourCycle: 'h23' });
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
    $('connection').textContent = 'ended';
    document.body.dataset['refused'] = reason.code;
  });
  socket.on('race:changed', () => join());
  socket.on('connect', () => {
    $('connection').textContent = 'live';
    join();
  });
  socket.on('disconnect', () => {
    $('connection').textContent = 'reconnecting…';
  });
}

start().catch((err: unknown) => {
  $('message').textContent = `The page could not start: ${(err as Error).message}`;
});
