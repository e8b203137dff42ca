// Where live links and their revocations are kept: in this process's memory, or in Redis, where
// every process sharing the event sees a link issued or revoked through any of them, and a
// restart forgets neither (server/ports/redis-link-store.ts).
import type { ShareLinkClaims } from '../share-links.ts';

export interface LinkStore {
  /**
   * Whether the store outlives this process and is shared with every other: then a validly signed
   * link this process never saw is trusted (its revocation would be here), else it is refused.
   */
  readonly shared: boolean;
  /** Records a link until it expires, unless the runner has `maxPerParticipant` or the store `maxLinks`; false then. */
  add(claims: ShareLinkClaims, nowMs: number, maxPerParticipant: number, maxLinks: number): Promise<boolean>;
  /** A participant's links not revoked and not expired. */
  ofParticipant(participantId: string, nowMs: number): Promise<ShareLinkClaims[]>;
  /** Revokes an active link (until it would have expired); its claims, or null when it is not active. */
  revoke(linkId: string, nowMs: number): Promise<ShareLinkClaims | null>;
  /** Every link revoked and not yet expired, with its expiry: what a process starting must know. */
  revoked(nowMs: number): Promise<Map<string, number>>;
  /** Told of every revocation, by any process (this one included). */
  onRevoked(listener: (linkId: string, expiresAtMs: number) => void): void;
  close(): Promise<void>;
}

/** The links of this process alone: a restart forgets them, and other processes never see them. */
export class MemoryLinkStore implements LinkStore {
  readonly shared = false;
  private readonly active = new Map<string, ShareLinkClaims>();
  private readonly byParticipant = new Map<string, Set<string>>();
  private readonly revokedLinks = new Map<string, number>();
  private readonly listeners: Array<(linkId: string, expiresAtMs: number) => void> = [];

  async add(claims: ShareLinkClaims, nowMs: number, maxPerParticipant: number, maxLinks: number): Promise<boolean> {
    this.forgetExpired(claims.participantId, nowMs);
    if ((this.byParticipant.get(claims.participantId)?.size ?? 0) >= maxPerParticipant) return false;
    if (this.active.size >= maxLinks || this.revokedLinks.size >= maxLinks) {
      this.forgetAllExpired(nowMs);
      if (this.active.size >= maxLinks || this.revokedLinks.size >= maxLinks) return false;
    }
    this.active.set(claims.linkId, claims);
    let own = this.byParticipant.get(claims.participantId);
    if (!own) {
      own = new Set();
      this.byParticipant.set(claims.participantId, own);
    }
    own.add(claims.linkId);
    return true;
  }

  async ofParticipant(participantId: string, nowMs: number): Promise<ShareLinkClaims[]> {
    return [...(this.byParticipant.get(participantId) ?? [])].flatMap((linkId) => {
      const claims = this.active.get(linkId);
      return claims && claims.expiresAtMs > nowMs ? [claims] : [];
    });
  }

  async revoke(linkId: string): Promise<ShareLinkClaims | null> {
    const claims = this.active.get(linkId);
    if (!claims) return null;
    this.drop(claims);
    this.revokedLinks.set(linkId, claims.expiresAtMs);
    for (const listener of this.listeners) listener(linkId, claims.expiresAtMs);
    return claims;
  }

  async revoked(nowMs: number): Promise<Map<string, number>> {
    return new Map([...this.revokedLinks].filter(([, expiresAtMs]) => expiresAtMs > nowMs));
  }

  onRevoked(listener: (linkId: string, expiresAtMs: number) => void): void {
    this.listeners.push(listener);
  }

  /** Whether this process issued the link and it is still active (what a memory store can vouch for). */
  isActive(linkId: string): boolean {
    return this.active.has(linkId);
  }

  async close(): Promise<void> {}

  private drop(claims: ShareLinkClaims): void {
    this.active.delete(claims.linkId);
    const own = this.byParticipant.get(claims.participantId);
    own?.delete(claims.linkId);
    if (own?.size === 0) this.byParticipant.delete(claims.participantId);
  }

  private forgetExpired(participantId: string, nowMs: number): void {
    for (const linkId of [...(this.byParticipant.get(participantId) ?? [])]) {
      const claims = this.active.get(linkId);
      if (claims && claims.expiresAtMs <= nowMs) this.drop(claims);
    }
  }

  private forgetAllExpired(nowMs: number): void {
    for (const claims of [...this.active.values()]) if (claims.expiresAtMs <= nowMs) this.drop(claims);
    for (const [linkId, expiresAtMs] of this.revokedLinks) if (expiresAtMs <= nowMs) this.revokedLinks.delete(linkId);
  }
}
