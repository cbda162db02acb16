// WebSockets for tests without a client library: the handshake over a raw socket, and the one frame
// the tests read — a server's close frame and its code. An upstream side that accepts any upgrade
// and keeps the connection open (echoing bytes) stands in for a WebSocket app.
import net from 'node:net';
import type { Upstream } from './stack.js';

export interface TestSocket {
  socket: net.Socket;
  /** The 101 response's head (status line and headers). */
  head: string;
  /** Resolves when the connection ends: the close frame's code, or null when it ended without one. */
  closed: Promise<{ code: number | null }>;
}

/** Opens a WebSocket through the gateway at 127.0.0.1:port; rejects unless the answer is 101. */
export function openWebSocket(port: number, host: string, path = '/ws', headers: Record<string, string> = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let code: number | null = null;
    const closed = new Promise<{ code: number | null }>((done) => socket.once('close', () => done({ code })));
    socket.on('error', (err) => (upgraded ? undefined : reject(err)));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ socket, head, closed });
      }
      // A close frame from the server (unmasked): 0x88, length, then the code.
      const at = buf.indexOf(0x88);
      if (at !== -1 && buf.length >= at + 4) code = buf.readUInt16BE(at + 2);
    });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
  });
}

/** Makes the upstream accept every upgrade and echo what it receives. */
export function acceptWebSockets(up: Upstream): void {
  up.server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
}
