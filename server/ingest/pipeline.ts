// The one way fixes come in, whichever edge they arrive at: the runner page's Socket.IO device
// namespace and the tracker apps' HTTP requests (server/http/ingest-routes.ts) both hand their
// fixes here. Every fix first pokes the timers (a flood of incoming fixes can hold timers back
// for seconds: the ticker and the lease renewals then run from here), then goes through the race
// service's pipeline (validate, persist, apply, acknowledge) with its back-pressure, and comes
// back as the same answer on every edge.
import { ErrorCodes, errorAck, type Ack, type PositionAccepted } from '../../shared/protocol.ts';
import type { Logger } from '../logger.ts';
import type { DeviceIdentity, RaceService } from '../race-service.ts';

export interface IngestPipeline {
  /** One fix from a device. */
  fix(device: DeviceIdentity, raw: unknown): Promise<Ack<PositionAccepted>>;
  /** Several from one device (a tracker app's offline buffer): one answer each, in the order given. */
  fixes(device: DeviceIdentity, raws: readonly unknown[]): Promise<Array<Ack<PositionAccepted>>>;
}

export function createIngestPipeline(deps: { service: RaceService; logger: Logger; onFix?: () => void }): IngestPipeline {
  const { service, logger } = deps;
  const failed = (cause: unknown, device: DeviceIdentity): Ack<PositionAccepted> => {
    logger.error({ err: cause, participantId: device.participantId }, 'position failed');
    return errorAck(ErrorCodes.INTERNAL, 'the position could not be processed');
  };
  return {
    fix: async (device, raw) => {
      deps.onFix?.();
      try {
        return await service.ingestFix(device, raw);
      } catch (cause) {
        return failed(cause, device);
      }
    },
    fixes: async (device, raws) => {
      deps.onFix?.();
      try {
        return await service.ingestFixes(device, raws);
      } catch (cause) {
        return raws.map(() => failed(cause, device));
      }
    },
  };
}
