// Node's own parser (llhttp) as the reference: a node:http server on loopback is sent the same
// bytes over a real socket, and what it made of them is recorded from its events.
import http from 'node:http';
import net from 'node:net';
import type { Message } from './sluice.js';

export interface LlhttpOutcome {
  /** Requests node:http delivered completely (their 'end' fired), in order. */
  messages: Message[];
  /** 'error': a parse error (or a 4xx node:http sends itself, e.g. no Host); 'incomplete': it waited for more bytes. */
  end: 'clean' | 'incomplete' | 'error';
  /** llhttp's error code, or the status node:http answered with. */
  code?: string;
}

interface Recorder {
  messages: Message[];
  error: string | null;
}

export class Llhttp {
  private readonly server: http.Server;
  private readonly byPort = new Map<number, Recorder>();
  private port = 0;

  constructor() {
    this.server = http.createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
      const rec = this.byPort.get(req.socket.remotePort!);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        rec?.messages.push({ method: req.method!, target: req.url!, body: Buffer.concat(chunks).toString('latin1'), keepAlive: req.headers.connection !== 'close' });
        res.end('ok');
      });
    });
    // The client half-closes after its bytes; by default node:http then aborts requests still
    // being read, before their 'end'. This (long-standing, undocumented) switch lets it finish them.
    if (!('httpAllowHalfOpen' in this.server)) throw new Error('node:http has no httpAllowHalfOpen: the differential run needs another way to half-close');
    (this.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', (socket) => {
      const rec = { messages: [], error: null };
      this.byPort.set(socket.remotePort!, rec);
      socket.on('close', () => setTimeout(() => this.byPort.delete(socket.remotePort!), 1000).unref());
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const rec = this.byPort.get((socket as net.Socket).remotePort!);
      if (rec && rec.error === null) rec.error = err.code ?? 'ERROR';
      socket.destroy();
    });
    this.server.on('checkExpectation', (req, res) => {
      const rec = this.byPort.get(req.socket.remotePort!);
      if (rec && rec.error === null) rec.error = '417';
      res.writeHead(417).end();
    });
    // A tunnel or protocol switch: llhttp accepted the request and hands the socket over.
    const takeOver = (req: http.IncomingMessage, socket: net.Socket | import('node:stream').Duplex) => {
      const rec = this.byPort.get(req.socket.remotePort!);
      rec?.messages.push({ method: req.method!, target: req.url!, body: '', keepAlive: false });
      socket.destroy();
    };
    this.server.on('connect', takeOver);
    this.server.on('upgrade', takeOver);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Sends `bytes`, half-closes, and waits for node:http to close the connection (or `deadlineMs`). */
  run(bytes: Buffer, deadlineMs = 3000): Promise<LlhttpOutcome> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      let port = 0;
      let response = '';
      const timer = setTimeout(() => socket.destroy(), deadlineMs);
      socket.on('connect', () => {
        port = socket.localPort!; // (the server may see the connection after the client does)
        socket.end(bytes);
      });
      socket.on('data', (d: Buffer) => { if (response.length < 64) response += d.toString('latin1'); });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        // (the server's events for this socket have all fired by the time the client sees the close)
        setImmediate(() => {
          const rec = this.byPort.get(port);
          const messages = rec?.messages ?? [];
          const err = rec?.error ?? null;
          if (err === 'HPE_INVALID_EOF_STATE') return resolve({ messages, end: 'incomplete', code: err });
          if (err !== null) return resolve({ messages, end: 'error', code: err });
          // node:http answers some requests itself without an event (400 for a missing Host)
          const status = /^HTTP\/1\.1 (\d{3})/.exec(response.slice(response.lastIndexOf('HTTP/1.1 ')));
          if (status && Number(status[1]) >= 400 && messages.length === 0) return resolve({ messages, end: 'error', code: status[1] });
          resolve({ messages, end: 'clean' });
        });
      });
    });
  }
}
