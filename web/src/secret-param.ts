// The one way the pages read the secret they were opened with (an organiser or device token, a
// live link, a private race's key). Links carry it in the URL fragment (#token=…, #link=…,
// #key=…), which the browser never sends to any server: it is in no request line, log or Referer.
// Old links carried it in the query string (?token=…); they keep working, and the page moves the
// secret out of its query into its fragment at once, so a reload or a bookmark does not send it.

/**
 * The value of `name` in the page's fragment, or in its query string (an old link), or null.
 * Other query parameters (race=…) stay in the query. When the fragment's value changes later (a
 * new link pasted into the same tab: only the fragment differs, so the browser does not load the
 * page again), the page reloads to start with the new secret; a fragment without it changes nothing.
 */
export function readSecretParam(name: string): string | null {
  const url = new URL(location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const fromQuery = url.searchParams.get(name);
  const value = fragment.get(name) ?? fromQuery;
  if (fromQuery !== null) {
    url.searchParams.delete(name);
    if (!fragment.has(name)) fragment.set(name, fromQuery);
    url.hash = fragment.toString();
    history.replaceState(history.state, '', url.href);
  }
  window.addEventListener('hashchange', () => {
    const now = new URLSearchParams(location.hash.slice(1)).get(name);
    if (now !== null && now !== value) location.reload();
  });
  return value;
}
