// Listening in a serving process: the port asked for (or, when the default one is taken at a
// desk, any free one), and with --redirect-http a second plain listener answering 308.
import cluster from 'node:cluster';
import { workerListenOptions } from '../cluster/listen-mode.js';
import type { Handler } from '../http/types.js';
import type { CloseOptions } from '../server/listener.js';
import { serve, type ServeOptions } from '../server/server.js';
import { TlsConfigError } from '../tls/options.js';
import { redirectToHttps } from '../tls/redirect.js';
import type { CliConfig } from './args.js';
import { fail } from './fail.js';
import { busyNotice } from './notices.js';
import { badTls } from './tls-errors.js';

export type Served = Awaited<ReturnType<typeof serve>>;

export async function listen(config: CliConfig, handler: Handler, serveOptions: ServeOptions): Promise<Served> {
  try {
    // A cluster worker listens the way its primary chose (its own socket under reusePort).
    return await serve(handler, cluster.isWorker ? { ...serveOptions, ...(await workerListenOptions()) } : serveOptions);
  } catch (err) {
    try {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || config.portExplicit || cluster.isWorker) throw err;
      const server = await serve(handler, { ...serveOptions, port: 0 });
      console.log(busyNotice(server.port));
      return server;
    } catch (err) {
      if (err instanceof TlsConfigError) badTls(err);
      const e = err as NodeJS.ErrnoException;
      return fail(`cannot listen on ${config.serve.host}:${config.serve.port}: ${e.code ?? e.message}`,
        e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' ? 2 : 1);
    }
  }
}

/** --redirect-http: the plain listener, and a server whose close() closes both. */
export async function withRedirect(config: CliConfig, server: Served, port: number): Promise<{ server: Served; redirect: Served }> {
  let redirect: Served;
  try {
    // Behind the same balancer as the HTTPS port: the same PROXY preamble and trusted proxies.
    const { proxyProtocol, trustProxy, forwardedHeader } = config.serve;
    redirect = await serve(redirectToHttps(server.port), { host: config.serve.host, port, proxyProtocol, trustProxy, forwardedHeader });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(`cannot listen on ${config.serve.host}:${port} (--redirect-http): ${e.code ?? e.message}`);
  }
  const both = Object.assign(Object.create(server) as Served, {
    // The main listener quiesces as asked (see Listener.close); the redirect one just closes.
    close: (ms?: number, how?: CloseOptions) => Promise.all([server.close(ms, how), redirect.close(ms)]).then(() => {}),
  });
  return { server: both, redirect };
}
