// Credentials that worked lately from an address. An address over its budget of wrong
// credentials is refused every other one before it is looked at, but these go on: phones behind
// one carrier NAT or stadium Wi-Fi must not be locked out by a neighbour's guessing. Used by the
// HTTP budgets (server/http/http-limits.ts) and the Socket.IO handshakes (CredentialGuard).

/** Pairs remembered at most, oldest forgotten first (about 5 MB). */
const MAX_REMEMBERED = 50_000;

export class WorkingCredentials {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly rememberMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  worked(address: string, credential: string): void {
    const key = `${address}\n${credential}`;
    this.until.delete(key);
    if (this.until.size >= MAX_REMEMBERED) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, this.nowMs() + this.rememberMs);
  }

  worksFrom(address: string, credential: string): boolean {
    const key = `${address}\n${credential}`;
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until >= this.nowMs()) return true;
    this.until.delete(key);
    return false;
  }
}
