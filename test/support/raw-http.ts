// Sends a request exactly as a tracker app writes it, over a plain TCP socket, from a fixture in
// test/fixtures/trackers (see its README for the format).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderFixture(name: string, values: Record<string, string | number>): Buffer {
  const text = readFileSync(new URL(`../fixtures/trackers/${name}`, import.meta.url), 'utf8');
  const split = text.indexOf('\n\n');
  const headText = text.slice(0, split);
  const bodyText = text.slice(split + 2).replace(/\n$/, '');
  const fill = (s: string) =>
    s.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      if (key === 'contentLength') return '{{contentLength}}';
      if (!(key in values)) throw new Error(`fixture ${name} needs a value for ${key}`);
      return String(values[key]);
    });
  const body = Buffer.from(fill(bodyText), 'utf8');
  const head = fill(headText).replace('{{contentLength}}', String(body.length)).split('\n').join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'utf8'), body]);
}

export function sendRaw(port: number, request: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, headEnd));
      if (lengthMatch && Buffer.byteLength(text.slice(headEnd + 4)) >= Number(lengthMatch[1])) {
        socket.end();
        const [statusLine, ...headerLines] = text.slice(0, headEnd).split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(headEnd + 4) });
      }
    });
    socket.on('error', reject);
    socket.write(request);
  });
}
