// Watches a browser page for two things the pages must never do: break the Content Security
// Policy the server sends (an inline script or style, a request to a host it does not allow), and
// send a secret (an organiser or device token, a race key, a live link) in a request's query
// string, where it would end up in access logs, proxies and the browser's history.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** What the page did wrong, as `check()` finds it. */
export interface GuardFindings {
  /** Each CSP violation: from the page's `securitypolicyviolation` events and from the console. */
  cspViolations: string[];
  /** Each request (HTTP or WebSocket) whose query string holds one of the secrets. */
  secretsInQuery: string[];
}

export interface BrowserGuard {
  /** Secrets learnt during the test (a link the page created); every request is checked again. */
  addSecrets(...secrets: string[]): void;
  /** Every request URL seen so far, HTTP and WebSocket, in order. */
  readonly requests: readonly string[];
  check(): Promise<GuardFindings>;
}

/** The name under which the page reports a violation to the test (a Playwright binding). */
const BINDING = '__reportCspViolation';

/** Whether `url`'s query string holds `secret`, as it is, percent-encoded, or in a parameter's value. */
export function queryHolds(url: string, secret: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.includes(secret);
  }
  const search = parsed.search;
  if (search === '') return false;
  if (search.includes(secret) || search.includes(encodeURIComponent(secret))) return true;
  for (const value of parsed.searchParams.values()) if (value.includes(secret)) return true;
  return false;
}

/**
 * Attaches to `page` before it opens anything: call it right after creating the page. Violations
 * are reported to the test as they happen (a binding, which survives navigations and reloads),
 * and also read from the console, where Chromium writes "Refused to … because it violates the
 * following Content Security Policy directive".
 */
export async function guardPage(page: Page, secrets: Iterable<string>): Promise<BrowserGuard> {
  const known = new Set([...secrets].filter((s) => s.length > 0));
  const requests: string[] = [];
  const cspViolations: string[] = [];

  await page.exposeBinding(BINDING, (_source, report: string) => {
    cspViolations.push(report);
  });
  await page.addInitScript((binding) => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = `${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile || event.documentURI}:${event.lineNumber}`;
      void (window as unknown as Record<string, (r: string) => Promise<void>>)[binding]?.(report);
    });
  }, BINDING);
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  page.on('request', (request) => {
    requests.push(request.url());
  });
  page.on('websocket', (ws) => {
    requests.push(ws.url());
  });

  return {
    addSecrets(...more) {
      for (const secret of more) if (secret.length > 0) known.add(secret);
    },
    requests,
    async check() {
      // One round trip to the page, so a violation it reported just before is delivered first.
      if (!page.isClosed()) await page.evaluate(() => undefined).catch(() => {});
      return {
        cspViolations: [...cspViolations],
        secretsInQuery: requests.filter((url) => [...known].some((secret) => queryHolds(url, secret))),
      };
    },
  };
}

/** Every secret of an event a page could be given: device tokens and race keys. */
export function eventSecrets(event: { races: ReadonlyArray<{ key?: string | null; participants: ReadonlyArray<{ deviceToken: string }> }> }): string[] {
  return event.races.flatMap((race) => [...(race.key ? [race.key] : []), ...race.participants.map((p) => p.deviceToken)]);
}

/** The link token of a live link's path (/follow.html#link=…). */
export function linkTokenOf(path: string): string {
  const hash = path.slice(path.indexOf('#') + 1);
  const link = new URLSearchParams(hash).get('link');
  if (!link) throw new Error(`no #link= in ${path}`);
  return link;
}

/** Asserts the page broke no CSP directive and sent no secret in a query string. */
export async function expectClean(guard: BrowserGuard): Promise<void> {
  expect(await guard.check()).toEqual({ cspViolations: [], secretsInQuery: [] });
}
