// A real HAProxy for tests: a written config, run in the foreground (-db); server states read
// from its stats socket.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startDaemon } from './daemon.js';

export const HAPROXY = '/usr/sbin/haproxy';
export const haproxyMissing = existsSync(HAPROXY) ? null : `${HAPROXY} is not installed`;

export interface Haproxy {
  /** Its stats socket: `show stat` and friends. */
  command(cmd: string): Promise<string>;
  /** The status column of every server of `backend` (UP, DOWN, MAINT, "UP 1/2"...), by server name. */
  states(backend: string): Promise<Record<string, string>>;
  /** Any column of `show stat` (check_status, last_chk, ...) for every server of `backend`. */
  column(backend: string, name: string): Promise<Record<string, string>>;
  /** Waits until `server` of `backend` is in `status` (UP or DOWN); rejects after `ms`. */
  waitFor(backend: string, server: string, status: 'UP' | 'DOWN', ms?: number): Promise<void>;
  /** What HAProxy printed (its alerts and warnings: server state changes). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts HAProxy with `config` (`$SOCKET` in it is replaced by the stats socket's path); resolves once `waitPort` accepts. */
export async function startHaproxy(config: string, waitPort: number): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-haproxy-'));
  const socket = path.join(dir, 'stats.sock');
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, config.replaceAll('$SOCKET', socket));
  const daemon = await startDaemon(HAPROXY, ['-db', '-f', cfg], waitPort, () => existsSync(socket));
  const out = () => daemon.output();
  const command = (cmd: string) => new Promise<string>((resolve, reject) => {
    const c = net.connect(socket);
    let data = '';
    c.setTimeout(3000, () => { c.destroy(); reject(new Error(`stats socket: no answer to ${cmd}`)); });
    c.on('connect', () => c.end(`${cmd}\n`));
    c.on('data', (d) => (data += d));
    c.on('error', reject);
    c.on('close', () => resolve(data));
  });
  /** One column of `show stat` for every server of `backend`. */
  const column = async (backend: string, name: string) => {
    const csv = (await command('show stat')).split('\n');
    const cols = csv[0]!.replace(/^# /, '').split(',');
    const px = cols.indexOf('pxname'), sv = cols.indexOf('svname'), col = cols.indexOf(name);
    const values: Record<string, string> = {};
    for (const line of csv.slice(1)) {
      const f = line.split(',');
      if (f[px] === backend && f[sv] !== 'BACKEND' && f[sv] !== 'FRONTEND') values[f[sv]!] = f[col]!;
    }
    return values;
  };
  const states = (backend: string) => column(backend, 'status');

  return {
    command,
    states,
    column,
    async waitFor(backend, server, status, ms = 10_000) {
      const until = Date.now() + ms;
      for (;;) {
        const s = (await states(backend))[server];
        if (s !== undefined && s.split(' ')[0] === status) return;
        if (Date.now() > until) throw new Error(`${backend}/${server} not ${status} within ${ms} ms (is ${s}):\n${out().slice(-2000)}`);
        await delay(50);
      }
    },
    output: out,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
