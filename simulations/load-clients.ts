// Lean clients for the load benchmark: the Socket.IO protocol (Engine.IO 4 over a WebSocket) spoken
// directly on `ws`, so that thousands of simulated phones and spectators cost the machine far less
// than as many socket.io-client instances would, and the CPU left goes to the server being
// measured. They speak only what the benchmark needs: the namespace handshake with auth, events
// with acknowledgements, binary events received, and the heartbeat.
import WebSocket from 'ws';

/** Bytes of one WebSocket frame from the server (unmasked) carrying `payload` bytes. */
export function wsFrameBytes(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);
}

export interface LeanSocketOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080. */
  url: string;
  /** '/' or '/device'. */
  namespace: string;
  auth?: Record<string, unknown>;
  /** A binary event arrived: its name, its other arguments, the attachment and the bytes it took on the wire. */
  onBinaryEvent?: (event: string, args: unknown[], attachment: Buffer, wireBytes: number) => void;
  /** A text event arrived (no attachment). */
  onEvent?: (event: string, args: unknown[], wireBytes: number) => void;
}

export class LeanSocket {
  private ws: WebSocket | null = null;
  private nextAckId = 1;
  private readonly acks = new Map<number, (reply: unknown) => void>();
  private readonly prefix: string;
  /** A binary event's text part, waiting for its attachment. */
  private pendingBinary: { event: string; args: unknown[]; wireBytes: number } | null = null;
  connected = false;

  constructor(private readonly options: LeanSocketOptions) {
    this.prefix = options.namespace === '/' ? '' : `${options.namespace},`;
  }

  /** Opens the WebSocket and joins the namespace; resolves true once joined, false if refused. */
  connect(): Promise<boolean> {
    const wsUrl = `${this.options.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    return new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      this.ws = ws;
      ws.on('error', () => resolve(false));
      ws.on('close', () => {
        this.connected = false;
        resolve(false);
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          const pending = this.pendingBinary;
          this.pendingBinary = null;
          if (pending) this.options.onBinaryEvent?.(pending.event, pending.args, data, pending.wireBytes + wsFrameBytes(data.byteLength));
          return;
        }
        const text = data.toString();
        const wireBytes = wsFrameBytes(data.byteLength);
        switch (text[0]) {
          case '0': // Engine.IO open: join the namespace, with the auth payload
            ws.send(`40${this.prefix}${this.options.auth ? JSON.stringify(this.options.auth) : ''}`);
            return;
          case '2': // Engine.IO heartbeat
            ws.send('3');
            return;
          case '4':
            this.onSocketIoPacket(text.slice(1), wireBytes, resolve);
            return;
          default:
            return;
        }
      });
    });
  }

  private onSocketIoPacket(packet: string, wireBytes: number, resolveConnect: (ok: boolean) => void): void {
    const type = packet[0];
    let rest = packet.slice(1);
    if (this.prefix !== '' && rest.startsWith(this.prefix)) rest = rest.slice(this.prefix.length);
    if (type === '0') {
      this.connected = true;
      resolveConnect(true);
    } else if (type === '4') {
      resolveConnect(false); // connect_error
      this.close();
    } else if (type === '3') {
      const bracket = rest.indexOf('[');
      const id = Number(rest.slice(0, bracket));
      const reply = JSON.parse(rest.slice(bracket)) as unknown[];
      const ack = this.acks.get(id);
      this.acks.delete(id);
      ack?.(reply[0]);
    } else if (type === '2') {
      const [event, ...args] = JSON.parse(rest.slice(rest.indexOf('['))) as [string, ...unknown[]];
      this.options.onEvent?.(event, args, wireBytes);
    } else if (type === '5') {
      // "<attachments>-<json>": one attachment in every binary event this benchmark receives.
      const [event, ...args] = JSON.parse(rest.slice(rest.indexOf('['))) as [string, ...unknown[]];
      this.pendingBinary = { event, args, wireBytes };
    }
  }

  /** Emits an event; `onAck` receives the server's answer. */
  emit(event: string, payload: unknown, onAck?: (reply: unknown) => void): void {
    if (!this.ws || !this.connected) return;
    let id = '';
    if (onAck) {
      const ackId = this.nextAckId++;
      this.acks.set(ackId, onAck);
      id = String(ackId);
    }
    this.ws.send(`42${this.prefix}${id}${JSON.stringify([event, payload])}`);
  }

  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.emit(event, payload, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  close(): void {
    this.connected = false;
    this.ws?.terminate();
    this.ws = null;
  }
}
