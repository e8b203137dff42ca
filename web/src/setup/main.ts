// A participant's setup page (/setup.html#token=…; an old link's ?token=… still works): the exact
// values each tracker app needs, a QR code for the runner page, and the runner's private live
// links. The token goes to the server as "Authorization: Bearer" only.
import './setup.css';
import QRCode from 'qrcode';
import type { Ack, ClientConfig, LocalNames, ShareLinkInfo } from '../../../shared/protocol.ts';
import { trackerUrls } from './tracker-urls.ts';
import { $ } from '../dom.ts';
import { dateTime, localName, localNumerals, preferenceControls, startI18n, t } from '../i18n.ts';
import { readSecretParam } from '../secret-param.ts';

const token = readSecretParam('token') ?? '';
const auth = { authorization: `Bearer ${token}` };

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  const body = (await response.json()) as Ack<T>;
  if (!body.ok) throw new Error(body.message);
  return body.data;
}

async function start(): Promise<void> {
  await startI18n();
  document.title = t('setup.title');
  $('preferences').replaceChildren(preferenceControls());
  const config = await api<ClientConfig>('/api/config');
  const me = await api<{ participantId: string; bib: string; name: string; names?: LocalNames; raceName: string; raceNames?: LocalNames }>('/api/device/me');
  $('who').textContent = t('setup.who', { runner: `${me.bib} ${localName(me)}` });
  $('race').textContent = localName({ name: me.raceName, ...(me.raceNames ? { names: me.raceNames } : {}) });
  const urls = trackerUrls(config.publicUrl ?? location.origin, token, me.participantId);
  const runnerLink = $('runner-link') as HTMLAnchorElement;
  runnerLink.href = urls.runnerPage;
  runnerLink.textContent = urls.runnerPage;
  await QRCode.toCanvas($('qr') as HTMLCanvasElement, urls.runnerPage, { width: 220, margin: 2 });
  $('traccar-url').textContent = urls.traccarServer;
  $('osmand-url').textContent = urls.osmand;
  $('owntracks-url').textContent = urls.ownTracks;
  $('owntracks-user').textContent = me.participantId;
  $('gpslogger-url').textContent = urls.gpsLogger;
  for (const element of document.querySelectorAll('.device-id')) element.textContent = token;

  const showLinks = async (): Promise<void> => {
    const { links } = await api<{ links: ShareLinkInfo[] }>('/api/device/share-links');
    $('links').replaceChildren(
      ...links.map((link) => {
        const li = document.createElement('li');
        li.textContent = t('setup.link', { id: link.linkId, until: dateTime(link.expiresAtMs) });
        const revoke = document.createElement('button');
        revoke.type = 'button';
        revoke.textContent = t('setup.revoke');
        revoke.addEventListener('click', () => {
          void api(`/api/device/share-links/${encodeURIComponent(link.linkId)}`, { method: 'DELETE' }).then(showLinks);
        });
        li.append(revoke);
        return li;
      }),
    );
  };
  $('new-link').addEventListener('click', () => {
    const validForHours = Number(($('link-hours') as HTMLSelectElement).value);
    void api<ShareLinkInfo>('/api/device/share-links', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ validForHours }),
    }).then((link) => {
      const a = $('created-link') as HTMLAnchorElement;
      a.href = `${config.publicUrl ?? location.origin}${link.path}`;
      a.textContent = a.href;
      a.hidden = false;
      return showLinks();
    });
  });
  await showLinks();
  document.body.dataset['ready'] = '1';
}

start().catch((err: unknown) => {
  $('message').textContent = localNumerals(token ? t('setup.linkDoesNotWork', { reason: (err as Error).message }) : t('setup.needsLink'));
});
