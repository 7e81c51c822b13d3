// Where to listen, for a person at a desk: a free port when the default one is taken, and the
// addresses other machines can use when listening on every interface.
import net from 'node:net';
import os from 'node:os';

/** Whether `port` can be listened on at `host` right now (nothing else has it). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the system says is free at `host` (it may of course be taken again before we use it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '::0';
}

/** URLs on the machine's non-loopback interfaces (IPv4 for 0.0.0.0, IPv4 and IPv6 for ::). */
export function lanUrls(host: string, port: number, interfaces = os.networkInterfaces(), scheme: 'http' | 'https' = 'http'): string[] {
  if (!isWildcard(host)) return [];
  const v6 = host !== '0.0.0.0';
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') out.push(`${scheme}://${a.address}:${port}/`);
      else if (v6 && a.family === 'IPv6' && !a.address.startsWith('fe80:')) out.push(`${scheme}://[${a.address}]:${port}/`);
    }
  }
  return out;
}

/** The lines printed under the start-up line when listening on every interface. */
export function lanLines(host: string, port: number, scheme: 'http' | 'https' = 'http'): string[] {
  if (!isWildcard(host)) return [];
  const urls = lanUrls(host, port, undefined, scheme);
  const lines = [`  on this machine: ${scheme}://localhost:${port}/`];
  if (urls.length === 0) lines.push('  on your network: (no network interface is up)');
  for (const u of urls) lines.push(`  on your network: ${u}`);
  return lines;
}
