// Who each participant is, and the device token that speaks for them: the event file's tokens,
// tokens organisers issue and revoke, and the checks the ingest edges make.
//
// A token an organiser issues is derived from the event's secret, the participant and a
// generation number (1 for the first issued, 2 for the next…), so that every process sharing the
// secret (docs/REDIS.md) makes the same token from the same change in the race's log, and the
// log never holds a token itself. Generation 0 is the event file's token.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** A participant's credential as organisers left it: which generation, and whether revoked. */
export interface CredentialState {
  generation: number;
  revoked: boolean;
}

export class DeviceCredentials {
  /** Changed credentials only (a participant absent here has the event file's token). */
  private readonly states = new Map<string, CredentialState>();
  private readonly eventTokens = new Map<string, string>();

  constructor(private readonly secret: string | Buffer = randomBytes(32)) {}

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
    this.eventTokens.set(identity.participantId, deviceToken);
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

  /** The token of a generation of a participant's credential (0: the event file's). */
  tokenFor(participantId: string, generation: number): string {
    if (generation === 0) return this.eventTokens.get(participantId) ?? '';
    return createHmac('sha256', this.secret).update(`device-token:${participantId}:${generation}`).digest('base64url').slice(0, 24);
  }

  /** Where a participant's credential stands (generation 0, not revoked, until organisers change it). */
  stateOf(participantId: string): CredentialState {
    return this.states.get(participantId) ?? { generation: 0, revoked: false };
  }

  /** Every participant whose credential organisers changed. */
  changed(): Array<[string, CredentialState]> {
    return [...this.states];
  }

  /**
   * Sets a participant's credential: a new generation's token (the old one stops working at once)
   * or none (revoked). A state older than the one held changes nothing (a checkpoint restored
   * after the log moved on), and a revoked generation stays revoked: only a new one is valid.
   */
  setState(participantId: string, state: CredentialState): boolean {
    const identity = this.byParticipant.get(participantId);
    if (!identity) return false;
    const current = this.stateOf(participantId);
    if (state.generation < current.generation) return true;
    if (state.generation === current.generation && (state.revoked === current.revoked || current.revoked)) return true;
    this.drop(participantId);
    this.states.set(participantId, { ...state });
    if (state.revoked) {
      this.tokenOf.set(participantId, null);
    } else {
      const token = this.tokenFor(participantId, state.generation);
      this.byToken.set(token, identity);
      this.tokenOf.set(participantId, token);
    }
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
