// Secrets in page links: each page reads its secret from the URL fragment, which
// the browser never sends; an old link with the secret in the query string still works, and the
// page moves the secret into the fragment at once, so a reload or a bookmark does not send it
// again. Every page is served with the Content Security Policy and no Referer, and works with it.
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, ShareLinkInfo } from '../../shared/protocol.ts';
import type { LoadedEvent } from '../../server/event/event-file.ts';
import { eventSecrets, expectClean, guardPage, linkTokenOf, type BrowserGuard } from '../support/browser-guard.ts';
import { PRIVATE_KEY, testEvent } from '../support/fixtures.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromium } from '../support/requirements.ts';
import { TEST_ORGANISER_TOKEN, startTestServer, type TestServer } from '../support/test-server.ts';

const available = chromium().available;

/** Each page, how it shows it has started with its secret, and the secret's parameter. */
interface PageCase {
  name: string;
  path: string;
  param: 'token' | 'link' | 'key';
  secret: () => string;
  started: (page: Page) => Promise<unknown>;
}

describe.skipIf(!available)('secrets in page links (Chromium)', () => {
  let browser: Browser;
  let server: TestServer;
  let event: LoadedEvent;
  let linkToken: string;

  beforeAll(async () => {
    event = await testEvent(Date.now() - 10 * 60_000);
    server = await startTestServer({ event, tickMs: 100 });
    browser = await playwright.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const runner = event.races[0]!.participants[1]!;
    const created = await fetch(`${server.url}/api/device/share-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runner.deviceToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await created.json()) as Ack<ShareLinkInfo>;
    if (!body.ok) throw new Error(body.message);
    linkToken = linkTokenOf(body.data.path);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const runner = () => event.races[0]!.participants[0]!;
  const ready = (page: Page) => page.waitForFunction(() => document.body.dataset['ready'] === '1', null, { timeout: 20_000 });
  const cases: PageCase[] = [
    { name: 'runner', path: '/runner.html', param: 'token', secret: () => runner().deviceToken, started: ready },
    { name: 'setup', path: '/setup.html', param: 'token', secret: () => runner().deviceToken, started: ready },
    { name: 'organiser', path: '/organiser.html', param: 'token', secret: () => TEST_ORGANISER_TOKEN, started: ready },
    {
      name: 'follow',
      path: '/follow.html',
      param: 'link',
      secret: () => linkToken,
      started: (page) => expect.poll(() => page.textContent('#who'), { timeout: 15_000 }).toMatch(/^S2 /),
    },
    {
      name: 'spectator (private race)',
      path: '/?race=loop-32k',
      param: 'key',
      secret: () => PRIVATE_KEY,
      started: (page) => page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'loop-32k', null, { timeout: 20_000 }),
    },
  ];
  const withParam = (path: string, separator: '?' | '&' | '#', c: PageCase) => `${server.url}${path}${separator}${c.param}=${encodeURIComponent(c.secret())}`;
  const fragmentLink = (c: PageCase) => withParam(c.path, '#', c);
  const oldLink = (c: PageCase) => withParam(c.path, c.path.includes('?') ? '&' : '?', c);

  async function newGuardedPage(): Promise<{ page: Page; guard: BrowserGuard; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await context.newPage();
    const guard = await guardPage(page, [TEST_ORGANISER_TOKEN, linkToken, ...eventSecrets(event)]);
    return { page, guard, close: () => context.close() };
  }

  it.each(cases.map((c) => [c.name, c] as const))('the %s page works from a link with its secret in the fragment, under the CSP and with no Referer', async (_name, c) => {
    const { page, guard, close } = await newGuardedPage();
    const response = await page.goto(fragmentLink(c));
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("style-src 'self'");
    expect(headers['referrer-policy']).toBe('no-referrer');
    await c.started(page);
    expect(page.url()).toBe(fragmentLink(c));
    await expectClean(guard);
    await close();
  });

  it.each(cases.map((c) => [c.name, c] as const))('an old %s link with the secret in the query string still works and moves it into the fragment', async (_name, c) => {
    const { page, guard, close } = await newGuardedPage();
    const old = oldLink(c);
    await page.goto(old);
    await c.started(page);
    // The secret only in the fragment now; the other parameters (race=) stay in the query.
    expect(page.url()).toBe(fragmentLink(c));
    // The one request with the secret in its query string is the old link the test opened itself.
    expect((await guard.check()).secretsInQuery).toEqual([old]);

    // A reload (or a bookmark) opens the fragment form: the secret is not sent again.
    const before = guard.requests.length;
    await page.reload();
    await c.started(page);
    expect(guard.requests.length).toBeGreaterThan(before);
    expect(page.url()).toBe(fragmentLink(c));
    expect(await guard.check()).toEqual({ cspViolations: [], secretsInQuery: [old] });
    await close();
  });

  it('the guard itself sees a blocked inline script and a secret in a query string', async () => {
    const { page, guard, close } = await newGuardedPage();
    await page.goto(`${server.url}/?race=street-10k`);
    await page.waitForFunction(() => document.body.dataset['courseDrawn'] === 'street-10k', null, { timeout: 20_000 });
    await page.evaluate(async (key) => {
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.inlineRan = "1"';
      document.head.append(script);
      await fetch(`/api/races/loop-32k?key=${encodeURIComponent(key)}`);
    }, PRIVATE_KEY);
    await expect.poll(async () => (await guard.check()).cspViolations.length).toBeGreaterThan(0);
    const findings = await guard.check();
    expect(findings.cspViolations.join('\n')).toMatch(/script-src/);
    expect(findings.secretsInQuery).toEqual([`${server.url}/api/races/loop-32k?key=${PRIVATE_KEY}`]);
    expect(await page.evaluate(() => document.body.dataset['inlineRan'])).toBeUndefined();
    await close();
  });
});
