// A runner's phone sending fixes along the course through the real Socket.IO device namespace:
// what several tests need to put runners somewhere in a race.
import type { Ack } from '../../shared/protocol.ts';
import type { LoadedRace } from '../../server/event/event-file.ts';
import { connectDevice, connected } from './test-server.ts';

/**
 * Sends fixes at 4 m/s (one every 20 m, 5 s apart) from `fromM` to `toM` along the race, the last
 * one recorded at `lastAtMs`, each acknowledged before the next; accuracy 5 m, no phone speed.
 */
export async function runAlong(url: string, race: LoadedRace, participantIndex: number, fromM: number, toM: number, lastAtMs: number): Promise<void> {
  const device = connectDevice(url, race.participants[participantIndex]!.deviceToken);
  await connected(device);
  const emit = (device as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck.bind(device);
  const steps = Math.round(Math.abs(toM - fromM) / 20);
  try {
    for (let k = 0; k <= steps; k++) {
      const [lon, lat] = race.course.path.pointAtRaceDistance(fromM + ((toM - fromM) * k) / steps);
      const ack = await emit('position', { lon, lat, recordedAtMs: lastAtMs - (steps - k) * 5000, accuracyM: 5 });
      if (!ack.ok) throw new Error(ack.message);
    }
  } finally {
    device.disconnect();
  }
}
