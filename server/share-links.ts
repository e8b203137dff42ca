// Private live links: anyone holding one may follow one runner, even in a private race, and see
// nothing else of that race. A link is signed (HMAC-SHA256 over its claims), expires, and can be
// revoked; an altered link fails its signature, and so does one signed by another server.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes } from '../shared/protocol.ts';

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
  private readonly active = new Map<string, ShareLinkClaims>();
  /** Active link ids by participant, for their list and their bound. */
  private readonly byParticipant = new Map<string, Set<string>>();
  /** Revoked links until they would have expired anyway (then an expired link is refused as such). */
  private readonly revoked = new Map<string, number>();
  private readonly revokeListeners: Array<(linkId: string) => void> = [];

  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('the share-link secret needs at least 32 bytes');
  }

  /** A new link, or null when the runner, or the server, has as many as it may hold. */
  issue(raceId: string, participantId: string, expiresAtMs: number, nowMs: number): IssuedLink | null {
    this.forgetExpired(participantId, nowMs);
    if ((this.byParticipant.get(participantId)?.size ?? 0) >= MAX_LINKS_PER_PARTICIPANT) return null;
    if (this.active.size >= MAX_LINKS || this.revoked.size >= MAX_LINKS) {
      this.forgetAllExpired(nowMs);
      if (this.active.size >= MAX_LINKS || this.revoked.size >= MAX_LINKS) return null;
    }
    const claims: ShareLinkClaims = { linkId: randomBytes(9).toString('base64url'), raceId, participantId, expiresAtMs };
    this.active.set(claims.linkId, claims);
    let own = this.byParticipant.get(participantId);
    if (!own) {
      own = new Set();
      this.byParticipant.set(participantId, own);
    }
    own.add(claims.linkId);
    const payload = Buffer.from(JSON.stringify([1, claims.linkId, raceId, participantId, expiresAtMs])).toString('base64url');
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
    if (this.revoked.has(linkId)) return { ok: false, code: ErrorCodes.LINK_REVOKED, message: 'this link was revoked by the runner or the organisers' };
    if (nowMs >= expiresAtMs) return { ok: false, code: ErrorCodes.LINK_EXPIRED, message: 'this link has expired; ask the runner for a new one' };
    // Links and their revocations are kept in memory: a link this server does not know (issued
    // before a restart) might have been revoked since, so it is refused rather than trusted.
    if (!this.active.has(linkId)) return { ok: false, code: ErrorCodes.LINK_INVALID, message: 'this link is no longer known here (the server restarted); ask the runner for a new one' };
    return { ok: true, claims: { linkId, raceId, participantId, expiresAtMs } };
  }

  /** Revokes a link; returns its claims, or null for a link that is not active. */
  revoke(linkId: string): ShareLinkClaims | null {
    const claims = this.active.get(linkId);
    if (!claims) return null;
    this.drop(claims);
    this.revoked.set(linkId, claims.expiresAtMs);
    for (const listener of this.revokeListeners) listener(linkId);
    return claims;
  }

  /** The links of a participant that have not been revoked or expired. */
  linksOf(participantId: string, nowMs: number): ShareLinkClaims[] {
    return [...(this.byParticipant.get(participantId) ?? [])].flatMap((linkId) => {
      const claims = this.active.get(linkId);
      return claims && claims.expiresAtMs > nowMs ? [claims] : [];
    });
  }

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
    for (const [linkId, expiresAtMs] of this.revoked) if (expiresAtMs <= nowMs) this.revoked.delete(linkId);
  }

  onRevoked(listener: (linkId: string) => void): void {
    this.revokeListeners.push(listener);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
