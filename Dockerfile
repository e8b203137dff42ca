# The race-tracking server in one image: the web pages built with Vite, the server run from its
# TypeScript sources by tsx. docs/DEPLOY.md says how to run it (compose.yaml: Redis, two server
# processes and nginx in front).
#
#   docker build -t racetrack-live .
#   docker run --rm -p 8080:8080 -e ORGANISER_TOKEN=... racetrack-live        # the demo, in memory

ARG NODE_IMAGE=node:20-bookworm-slim

# --- 1. the web pages (web/dist), with every dependency, dev ones included ---------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# The pages import shared/ (protocol, wire format, course path); nothing under server/.
COPY tsconfig.json ./
COPY shared/ shared/
COPY web/ web/
RUN npm run build

# --- 2. the run-time dependencies only -------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# tsx (which runs the server's TypeScript) is a regular dependency, so it is kept here.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- 3. what runs ----------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# Everything stays owned by root and read-only to the `node` user the server runs as. tsx keeps
# its compile cache under /tmp, which is writable.
COPY --from=deps /app/node_modules ./node_modules
# package.json says "type": "module", which the .ts files need to load as ES modules.
COPY package.json ./
COPY server/ server/
COPY shared/ shared/
COPY --from=web /app/web/dist web/dist
USER node
EXPOSE 8080
# /healthz answers 200 when the server is ready and its store (Redis, if any) answers, 503
# otherwise. The slim image has no curl: Node's own fetch asks.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# server/main.ts closes its sockets, the Redis adapter and the stores on SIGTERM, then exits.
STOPSIGNAL SIGTERM
# Arguments (an event file, --no-simulate, --speed N) go after server/main.ts: to serve your own
# event, override the whole command (docs/DEPLOY.md).
CMD ["node", "--import", "tsx", "server/main.ts"]
