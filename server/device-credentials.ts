// Who each participant is, and the device token that speaks for them: the event file's tokens,
// tokens organisers issue and revoke, and the checks the ingest edges make. Held apart from the
// races so that sharing it between processes (docs/REDIS.md) can change this module alone.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface DeviceIdentity {
  raceId: string;
  participantId: string;
  bib: string;
  name: string;
}

/** What an absent secret is compared against: the digest of nothing anyone can send. */
export const UNMATCHABLE_DIGEST = randomBytes(32);

/** Secrets are compared as fixed-length digests so the comparison time says nothing about them. */
export function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export class DeviceCredentials {
  private readonly byToken = new Map<string, DeviceIdentity>();
  /** A participant's token; null once revoked. */
  private readonly tokenOf = new Map<string, string | null>();
  /** Identities are shared with `byToken`: a participant moved to another race is moved for both. */
  private readonly byParticipant = new Map<string, DeviceIdentity>();
  private readonly droppedListeners: Array<(participantId: string) => void> = [];

  get size(): number {
    return this.byParticipant.size;
  }

  register(identity: DeviceIdentity, deviceToken: string): void {
    this.byParticipant.set(identity.participantId, identity);
    this.byToken.set(deviceToken, identity);
    this.tokenOf.set(identity.participantId, deviceToken);
  }

  identity(participantId: string): DeviceIdentity | null {
    return this.byParticipant.get(participantId) ?? null;
  }

  tokenInUse(deviceToken: string): boolean {
    return this.byToken.has(deviceToken);
  }

  authenticate(deviceToken: unknown): DeviceIdentity | null {
    if (typeof deviceToken !== 'string') return null;
    return this.byToken.get(deviceToken) ?? null;
  }

  /** OwnTracks' HTTP Basic credentials: the participant id as user, the device token as password. */
  authenticateBasic(user: string, password: string): DeviceIdentity | null {
    const token = this.tokenOf.get(user);
    // An unknown user is compared too, so the time does not tell which participant ids exist.
    const matches = timingSafeEqual(digest(password), typeof token === 'string' ? digest(token) : UNMATCHABLE_DIGEST);
    return typeof token === 'string' && matches ? (this.byToken.get(token) ?? null) : null;
  }

  /** Every participant's device credential (null when revoked), for organisers to hand out. */
  list(): Array<DeviceIdentity & { deviceToken: string | null }> {
    return [...this.byParticipant.values()].map((identity) => ({ ...identity, deviceToken: this.tokenOf.get(identity.participantId) ?? null }));
  }

  /** A new device token for a participant; the old one stops working at once. */
  issue(participantId: string): string | null {
    const identity = this.byParticipant.get(participantId);
    if (!identity) return null;
    this.drop(participantId);
    const token = randomBytes(18).toString('base64url');
    this.byToken.set(token, identity);
    this.tokenOf.set(participantId, token);
    return token;
  }

  /** Revokes a participant's device token: no device of theirs is accepted until a new one is issued. */
  revoke(participantId: string): boolean {
    if (!this.byParticipant.has(participantId)) return false;
    this.drop(participantId);
    this.tokenOf.set(participantId, null);
    return true;
  }

  /** Called with a participant id whenever their device token stops being valid. */
  onDropped(listener: (participantId: string) => void): void {
    this.droppedListeners.push(listener);
  }

  private drop(participantId: string): void {
    const old = this.tokenOf.get(participantId);
    if (old) this.byToken.delete(old);
    for (const listener of this.droppedListeners) listener(participantId);
  }
}
