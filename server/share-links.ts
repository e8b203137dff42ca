// Private live links: anyone holding one may follow one runner, even in a private race, and see
// nothing else of that race. A link is signed (HMAC-SHA256 over its claims), expires, and can be
// revoked; an altered link fails its signature, and so does one signed by another server. Links
// and revocations are kept in a store (server/ports/link-store.ts): this process's memory, or
// Redis, shared by every process.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes } from '../shared/protocol.ts';
import { MemoryLinkStore, type LinkStore } from './ports/link-store.ts';

export interface ShareLinkClaims {
  linkId: string;
  raceId: string;
  participantId: string;
  expiresAtMs: number;
}

export type LinkCheck =
  | { ok: true; claims: ShareLinkClaims }
  | { ok: false; code: typeof ErrorCodes.LINK_INVALID | typeof ErrorCodes.LINK_EXPIRED | typeof ErrorCodes.LINK_REVOKED; message: string };

export interface IssuedLink extends ShareLinkClaims {
  token: string;
}

/** Longest a link may live: a race weekend. */
export const MAX_LINK_TTL_MS = 7 * 24 * 3600_000;

/** Live links one runner may have at once, and all runners together (docs/SECURITY.md). */
export const MAX_LINKS_PER_PARTICIPANT = 20;
export const MAX_LINKS = 100_000;

export class ShareLinks {
  /** Revoked links until they would have expired anyway, as the store told (then an expired link is refused as such). */
  private readonly revokedLinks = new Map<string, number>();
  private readonly revokeListeners: Array<(linkId: string) => void> = [];

  /**
   * `store`: where links and revocations are kept (default: this process's memory). With a shared
   * store (Redis) and the same secret on every process, a link works on all of them and after a
   * restart, and a revocation through any of them holds on all.
   */
  constructor(
    private readonly secret: Buffer,
    private readonly store: LinkStore = new MemoryLinkStore(),
  ) {
    if (secret.length < 32) throw new Error('the share-link secret needs at least 32 bytes');
    store.onRevoked((linkId, expiresAtMs) => this.noteRevoked(linkId, expiresAtMs));
  }

  /** Learns the revocations made before this process started (a shared store only has any). */
  async start(nowMs: number): Promise<void> {
    for (const [linkId, expiresAtMs] of await this.store.revoked(nowMs)) this.revokedLinks.set(linkId, expiresAtMs);
  }

  /** A new link, or null when the runner, or the server, has as many as it may hold. */
  async issue(raceId: string, participantId: string, expiresAtMs: number, nowMs: number): Promise<IssuedLink | null> {
    // Whole milliseconds: a fractional hour asked for, or a demo's scaled clock, gives fractions,
    // which Redis's expiry does not take.
    const claims: ShareLinkClaims = { linkId: randomBytes(9).toString('base64url'), raceId, participantId, expiresAtMs: Math.floor(expiresAtMs) };
    if (!(await this.store.add(claims, nowMs, MAX_LINKS_PER_PARTICIPANT, MAX_LINKS))) return null;
    const payload = Buffer.from(JSON.stringify([1, claims.linkId, raceId, participantId, claims.expiresAtMs])).toString('base64url');
    return { ...claims, token: `${payload}.${this.sign(payload)}` };
  }

  check(token: unknown, nowMs: number): LinkCheck {
    const invalid = { ok: false as const, code: ErrorCodes.LINK_INVALID, message: 'this link is not valid here (altered, or from another server)' };
    if (typeof token !== 'string' || token.length > 512) return invalid;
    const [payload, signature, ...rest] = token.split('.');
    if (!payload || !signature || rest.length > 0) return invalid;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return invalid;
    }
    if (!Array.isArray(fields) || fields[0] !== 1 || fields.length !== 5) return invalid;
    const [, linkId, raceId, participantId, expiresAtMs] = fields as [number, string, string, string, number];
    if (this.revokedLinks.has(linkId)) return { ok: false, code: ErrorCodes.LINK_REVOKED, message: 'this link was revoked by the runner or the organisers' };
    if (nowMs >= expiresAtMs) return { ok: false, code: ErrorCodes.LINK_EXPIRED, message: 'this link has expired; ask the runner for a new one' };
    // In memory, links and their revocations die with the process: a link it does not know
    // (issued before a restart) might have been revoked since, so it is refused rather than
    // trusted. A shared store keeps every revocation, so a signed link it has not seen is good.
    if (this.store instanceof MemoryLinkStore && !this.store.isActive(linkId)) {
      return { ok: false, code: ErrorCodes.LINK_INVALID, message: 'this link is no longer known here (the server restarted); ask the runner for a new one' };
    }
    if (this.revokedLinks.size > MAX_LINKS) this.forgetExpiredRevocations(nowMs);
    return { ok: true, claims: { linkId, raceId, participantId, expiresAtMs } };
  }

  /** Revokes a link; returns its claims, or null for a link that is not active. */
  async revoke(linkId: string, nowMs: number): Promise<ShareLinkClaims | null> {
    const claims = await this.store.revoke(linkId, nowMs);
    // Refused here at once, not only when the store's news of it comes back.
    if (claims) this.noteRevoked(linkId, claims.expiresAtMs);
    return claims;
  }

  private noteRevoked(linkId: string, expiresAtMs: number): void {
    if (this.revokedLinks.has(linkId)) return;
    this.revokedLinks.set(linkId, expiresAtMs);
    for (const listener of this.revokeListeners) listener(linkId);
  }

  /** The links of a participant that have not been revoked or expired. */
  linksOf(participantId: string, nowMs: number): Promise<ShareLinkClaims[]> {
    return this.store.ofParticipant(participantId, nowMs);
  }

  /** Told of every revocation (by any process, with a shared store): a follower on it is ended. */
  onRevoked(listener: (linkId: string) => void): void {
    this.revokeListeners.push(listener);
  }

  private forgetExpiredRevocations(nowMs: number): void {
    for (const [linkId, expiresAtMs] of this.revokedLinks) if (expiresAtMs <= nowMs) this.revokedLinks.delete(linkId);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
