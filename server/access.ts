// Organiser authentication: a bearer token compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface OrganiserAuth {
  isOrganiserToken(candidate: unknown): boolean;
  /** From an HTTP `Authorization: Bearer …` header value. */
  isOrganiserHeader(header: string | undefined): boolean;
}

export function createOrganiserAuth(token: string): OrganiserAuth {
  const expected = createHash('sha256').update(token).digest();
  const isOrganiserToken = (candidate: unknown): boolean =>
    typeof candidate === 'string' && timingSafeEqual(createHash('sha256').update(candidate).digest(), expected);
  return {
    isOrganiserToken,
    isOrganiserHeader: (header) => {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
      return match !== null && isOrganiserToken(match[1]);
    },
  };
}
