// A real nginx for tests: a temporary prefix and config, run in the foreground.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDaemon } from './daemon.js';

export const NGINX = '/usr/sbin/nginx';
export const nginxMissing = existsSync(NGINX) ? null : `${NGINX} is not installed`;

export interface Nginx {
  output(): string;
  stop(): Promise<void>;
}

/** Runs nginx with `httpBlock` inside `http { }`; resolves once `waitPort` accepts. */
export async function startNginx(httpBlock: string, waitPort: number): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-nginx-'));
  mkdirSync(path.join(dir, 'tmp'));
  const t = (name: string) => path.join(dir, 'tmp', name);
  writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
${httpBlock}
}
`);
  const daemon = await startDaemon(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], waitPort);
  return {
    output: () => daemon.output(),
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
