// Response headers that keep the pages safe to open: a Content Security Policy every page passes
// (Vite emits no inline script), no framing (the organiser console's Reopen and DNF buttons must
// not be clickable through someone else's page), no Referer (secrets have lived in page URLs).
import helmet from 'helmet';
import type { RequestHandler } from 'express';

/** `mapHosts`: the hosts the configured basemap is fetched from besides this server (server/basemap.ts). */
export function securityHeaders(options: { mapHosts: readonly string[] }): RequestHandler {
  const mapbox = options.mapHosts;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // The map libraries set element styles from script (allowed by CSP); no page has a style
        // attribute or a <style> element of its own.
        styleSrc: ["'self'", ...mapbox],
        // QR codes and the map's sprites are data: and blob: URLs.
        imgSrc: ["'self'", 'data:', 'blob:', ...mapbox],
        fontSrc: ["'self'", 'data:', ...mapbox],
        // 'self' covers the Socket.IO WebSocket on the same host and port.
        connectSrc: ["'self'", ...mapbox],
        // Map libraries run their tile workers from a blob: URL.
        workerSrc: ["'self'", 'blob:'],
        childSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // No upgrade-insecure-requests: phones on the organisers' own network reach the server
        // over plain HTTP, and an upgrade would break every request they make.
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // Same reason: plain HTTP on a local network is a supported set-up, so no HSTS pin from here.
    // A deployment behind TLS sets HSTS at its proxy (docs/DEPLOY.md).
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
  });
}
