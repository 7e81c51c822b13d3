// The lines a person reads when sluice starts: where it listens, where else it can be reached,
// the admin listener, and why the port is not the default one.
import { DEFAULT_PORT } from '../server/server.js';

export const busyNotice = (port: number) => `sluice: port ${DEFAULT_PORT} is in use, so using port ${port} instead (--port chooses one)`;

/** The --redirect-http part of the start-up line; a port, not a URL, since the host may be a wildcard. */
export function redirectNote(port: number | undefined): string {
  return port === undefined ? '' : `; plain HTTP on port ${port} redirects here`;
}

export function adminLine(adminUrl: string | null): void {
  if (adminUrl !== null) console.log(`sluice admin on ${adminUrl} (/healthz, /readyz, /metrics, /status)`);
}
