// The client's address as the server should count it: the connection's own, or, behind proxies
// the operator trusts (TRUST_PROXY), the one they forwarded. Express does this for HTTP requests
// (`req.ip` with 'trust proxy'); Socket.IO handshakes get the same answer from here, so a client
// has one address whichever way it comes in.
import type { IncomingHttpHeaders } from 'node:http';
import proxyaddr from 'proxy-addr';

export type TrustProxy = false | number | string;

export function clientAddressResolver(trust: TrustProxy): (remoteAddress: string, headers: IncomingHttpHeaders) => string {
  if (trust === false) return (remoteAddress) => remoteAddress;
  // As Express reads a number: that many hops from the server are proxies.
  const isTrusted =
    typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : proxyaddr.compile(trust.split(',').map((part) => part.trim()));
  return (remoteAddress, headers) => proxyaddr({ headers, socket: { remoteAddress } } as unknown as Parameters<typeof proxyaddr>[0], isTrusted);
}
