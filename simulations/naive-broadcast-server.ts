// The load benchmark's baseline: the same server, except that every accepted ping is broadcast
// at once to its race's room as a JSON object (what a tracker without ticks does), instead of one
// binary delta per race per tick. Started by `npm run bench:load`; not for production.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createApplication } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { systemClock } from '../server/core/clock.ts';
import { loadEventFile } from '../server/event/event-file.ts';
import { createLogger } from '../server/logger.ts';
import { createMemoryStores } from '../server/ports/stores.ts';
import { RaceService } from '../server/race-service.ts';
import { raceRoom } from '../server/realtime/socket-server.ts';
import { ShareLinks } from '../server/share-links.ts';
import type { FixInput } from '../shared/protocol.ts';

const config = loadConfig(process.env, process.argv.slice(2));
const logger = createLogger(config.logLevel);
const event = await loadEventFile(config.eventFile);
const service = await RaceService.create({ event, stores: createMemoryStores(), clock: systemClock, logger, defaultStartMs: Date.now() });
const httpServer = createServer();
const app = createApplication(httpServer, {
  service,
  clock: systemClock,
  logger,
  organiserToken: randomBytes(24).toString('base64url'),
  // The ticker is not the baseline's way of telling spectators: it runs once a minute at most.
  tickMs: 60_000,
  webRoot: null,
  shareLinks: new ShareLinks(randomBytes(32)),
});

const ingest = service.ingestFix.bind(service);
service.ingestFix = async (device, raw) => {
  const ack = await ingest(device, raw);
  if (ack.ok && ack.data.applied) {
    const fix = raw as FixInput;
    app.io.to(raceRoom(device.raceId)).emit('race:position', {
      raceId: device.raceId,
      participantId: device.participantId,
      bib: device.bib,
      lat: fix.lat,
      lon: fix.lon,
      distanceAlongRaceM: ack.data.distanceAlongRaceM,
      lap: ack.data.lap,
      status: ack.data.status,
      recordedAtMs: fix.recordedAtMs,
    });
  }
  return ack;
};

httpServer.listen(config.port, config.host, () => {
  const { port } = httpServer.address() as AddressInfo;
  process.stdout.write(`naive baseline\nSpectator map:   http://${config.host}:${port}/ \n`);
});
// Ends cleanly (a CPU profile, when asked for, is written on exit).
process.on('SIGTERM', () => process.exit(0));
