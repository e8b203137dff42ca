// The runner page: shares the phone's position with the race over Socket.IO, keeps what it
// could not send in browser storage (surviving a reload), and shows the runner what the server
// sees. Reached with the runner's own token: /runner.html#token=… (an old link's ?token=… still
// works). The token goes to the server as "Authorization: Bearer" and in Socket.IO's auth only.
import './runner.css';
import { io, type Socket } from 'socket.io-client';
import {
  ErrorCodes,
  type Ack,
  type DeviceClientToServerEvents,
  type DeviceServerToClientEvents,
  type FixInput,
  type LocalNames,
  type PositionAccepted,
} from '../../../shared/protocol.ts';
import { FixQueue } from './fix-queue.ts';
import { $ } from '../dom.ts';
import { readSecretParam } from '../secret-param.ts';
import { distanceText, localDigits, localName, paceText, preferenceControls, startI18n, statusWords, t } from '../i18n.ts';

const token = readSecretParam('token') ?? '';
// Keyed by the whole token: two runners sharing a browser never mix their positions.
const queue = new FixQueue(localStorage, `runner:${token}:queue`);
const sharingKey = `runner:${token}:sharing`;
/** Refusals that sending again cannot fix: the fix is dropped rather than retried forever. */
const final = new Set<string>([ErrorCodes.MALFORMED_FIX, ErrorCodes.COORDINATES_OUT_OF_RANGE, ErrorCodes.FIX_FROM_FUTURE]);

const setText = (id: string, text: string): void => {
  $(id).textContent = text;
  delete $(id).dataset['source'];
};

function locationProblem(err: GeolocationPositionError): string {
  const text =
    err.code === err.PERMISSION_DENIED
      ? t('runner.locationDenied')
      : err.code === err.POSITION_UNAVAILABLE
        ? t('runner.noPosition')
        : t('runner.waiting');
  queueMicrotask(() => {
    $('message').dataset['source'] = 'location';
  });
  return text;
}

async function start(): Promise<void> {
  await startI18n();
  $('preferences').replaceChildren(preferenceControls());
  if (!token) {
    setText('message', t('runner.needsLink'));
    return;
  }
  const me = await fetch('/api/device/me', { headers: { authorization: `Bearer ${token}` } })
    .then((r) => r.json() as Promise<Ack<{ name: string; names?: LocalNames; bib: string; raceName: string; raceNames?: LocalNames }>>)
    .catch(() => null);
  if (me && !me.ok) {
    setText('message', t('runner.linkInvalid'));
    return;
  }
  if (me?.ok) {
    setText('who', `${me.data.bib} ${localName(me.data)}`);
    setText('race', localName({ name: me.data.raceName, ...(me.data.raceNames ? { names: me.data.raceNames } : {}) }));
  }

  const socket: Socket<DeviceServerToClientEvents, DeviceClientToServerEvents> = io('/device', {
    auth: { deviceToken: token },
    transports: ['websocket'],
  });
  const shareButton = $('share') as HTMLButtonElement;
  let watchId: number | null = null;
  let wakeLock: { release(): Promise<void> } | null = null;
  let sending = false;
  const history: Array<{ atMs: number; distanceM: number }> = [];
  /** The newest position the browser gave, for an SOS when a fresh one cannot be had. */
  let lastFix: FixInput | null = null;

  const showQueue = (): void => {
    // (i18next picks the singular or plural form from `count`.)
    setText('queue', queue.size === 0 ? '' : t('runner.waitingToSend', { count: queue.size, n: localDigits(String(queue.size)) }));
    document.body.dataset['queued'] = String(queue.size);
  };

  const showAccepted = (fix: FixInput, accepted: PositionAccepted): void => {
    setText('distance', distanceText(accepted.distanceAlongRaceM));
    setText('lap', localDigits(String(accepted.lap)));
    setText('status', statusWords(accepted.status));
    document.body.dataset['distance'] = String(accepted.distanceAlongRaceM);
    history.push({ atMs: fix.recordedAtMs, distanceM: accepted.distanceAlongRaceM });
    while (history.length > 2 && history[history.length - 1]!.atMs - history[1]!.atMs > 120_000) history.shift();
    const first = history[0]!;
    const last = history[history.length - 1]!;
    const metres = last.distanceM - first.distanceM;
    if (metres > 20 && last.atMs - first.atMs >= 20_000) {
      const secPerKm = ((last.atMs - first.atMs) / 1000 / metres) * 1000;
      setText('pace', paceText(secPerKm));
    }
  };

  /** Sends what is queued, oldest first, one at a time; stops at the first failure to retry later. */
  const flush = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      for (let fix = queue.peek(); fix && socket.connected; fix = queue.peek()) {
        let result: Ack<PositionAccepted>;
        try {
          result = await socket.timeout(10_000).emitWithAck('position', fix);
        } catch {
          break; // no answer: keep it and try again when connected
        }
        if (result.ok) showAccepted(fix, result.data);
        else if (!final.has(result.code)) break; // e.g. UNAVAILABLE: retry later
        else setText('message', t('runner.refused', { reason: result.message }));
        queue.removeOldest(fix.recordedAtMs);
        showQueue();
      }
    } finally {
      sending = false;
    }
  };

  let positionsSeen = 0;
  const onPosition = (position: GeolocationPosition): void => {
    const { coords } = position;
    const fix: FixInput = { lat: coords.latitude, lon: coords.longitude, recordedAtMs: Math.round(position.timestamp) };
    if (Number.isFinite(coords.accuracy)) fix.accuracyM = Math.min(coords.accuracy, 100_000);
    if (coords.speed !== null && Number.isFinite(coords.speed) && coords.speed >= 0) fix.speedMps = coords.speed;
    if (coords.heading !== null && Number.isFinite(coords.heading)) fix.headingDeg = coords.heading;
    lastFix = fix;
    queue.add(fix);
    // (How many positions the phone has given: a test moving a fake phone waits on it.)
    positionsSeen += 1;
    document.body.dataset['positions'] = String(positionsSeen);
    showQueue();
    if ($('message').dataset['source'] === 'location') setText('message', '');
    void flush();
  };

  const keepAwake = async (): Promise<void> => {
    const wake = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<{ release(): Promise<void> }> } }).wakeLock;
    try {
      wakeLock = (await wake?.request('screen')) ?? null;
    } catch {
      wakeLock = null; // not allowed here (battery saver, no user gesture): sharing still works
    }
  };

  const setSharing = (on: boolean): void => {
    localStorage.setItem(sharingKey, on ? '1' : '0');
    if (on && watchId === null) {
      watchId = navigator.geolocation.watchPosition(onPosition, (err) => setText('message', locationProblem(err)), {
        enableHighAccuracy: true,
        maximumAge: 0,
        timeout: 60_000,
      });
      void keepAwake();
    } else if (!on && watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
      void wakeLock?.release();
      wakeLock = null;
    }
    shareButton.textContent = t(on ? 'runner.stop' : 'runner.start');
    shareButton.className = `big ${on ? 'stop' : 'start'}`;
    document.body.dataset['sharing'] = on ? 'on' : 'off';
  };

  shareButton.addEventListener('click', () => setSharing(watchId === null));
  document.addEventListener('visibilitychange', () => {
    // Browsers release the wake lock when the page is hidden; take it again on return.
    if (document.visibilityState === 'visible' && watchId !== null) void keepAwake();
  });
  $('sos').addEventListener('click', () => {
    if (!confirm(t('runner.sosConfirm'))) return;
    navigator.geolocation.getCurrentPosition(
      (p) => sendSos({ recordedAtMs: Math.round(p.timestamp), lat: p.coords.latitude, lon: p.coords.longitude }),
      // No fresh position: the newest known one, with its own time, so organisers see its age.
      () => sendSos(lastFix ? { recordedAtMs: lastFix.recordedAtMs, lat: lastFix.lat, lon: lastFix.lon } : { recordedAtMs: Date.now() }),
      { maximumAge: 30_000, timeout: 5000 },
    );
  });
  const sendSos = (request: { recordedAtMs: number; lat?: number; lon?: number }): void => {
    setText('message', t('runner.sosSending'));
    // Socket.IO buffers the event until the connection is back if it is down now.
    socket.emit('sos', request, (result) => {
      setText('message', result.ok ? t('runner.sosSent') : t('runner.sosFailed', { reason: result.message }));
      document.body.dataset['sos'] = result.ok ? 'sent' : 'failed';
    });
  };

  socket.on('connect', () => {
    setText('connection', t('runner.connected'));
    void flush();
  });
  socket.on('disconnect', () => setText('connection', t('runner.offline')));
  socket.on('connect_error', (err) => {
    const code = (err as Error & { data?: { code?: string } }).data?.code;
    setText('connection', t(code === ErrorCodes.UNKNOWN_DEVICE ? 'runner.linkInvalidShort' : 'runner.offline'));
  });
  window.addEventListener('online', () => void flush());

  shareButton.disabled = false;
  showQueue();
  // Sharing survives a reload: a runner whose page reloaded mid-race keeps being tracked.
  if (localStorage.getItem(sharingKey) === '1') setSharing(true);
  document.body.dataset['ready'] = '1';
}

start().catch((err: unknown) => setText('message', `The page could not start: ${(err as Error).message}`));
