// `sluice app.mjs`: import a module and serve what it exports, optionally behind a folder of
// static files (--static: files win, the app gets the rest).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler, SluiceRequest, SluiceResponse } from '../http/types.js';
import { fromFetch, isFetchApp } from './adapter.js';
import { installGlobals } from './globals.js';

/** The app file cannot be served: the CLI prints the message and exits with code 2. */
export class AppLoadError extends Error {}

/**
 * What an app module may export, tried in this order:
 *   - `export default app` where app has a `fetch` method (Hono, `{ fetch }`): a fetch app;
 *   - `export default function (request, info)`: a fetch handler;
 *   - no default export and `export function handler(req)`: a sluice handler (sluice's own API).
 * A default-export function is always taken for a fetch handler: the two kinds of function
 * cannot be told apart before they are called, so a sluice handler says what it is by its name.
 */
export async function loadApp(file: string): Promise<Handler> {
  // Before the import, so that Responses the module builds at load time are the light ones too.
  installGlobals();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error;
    // The error and where it came from in the app (Node's frames and sluice's say nothing to the user).
    const ours = new URL('..', import.meta.url).href;
    const detail = e instanceof Error
      ? (e.stack ?? e.message).split('\n').filter((l, i) => i === 0 || !(l.includes('node:') || l.includes(ours))).slice(0, 6).join('\n')
      : String(err);
    throw new AppLoadError(`cannot import ${file}: ${detail}`);
  }
  const def = mod.default;
  if (isFetchApp(def)) return fromFetch(def);
  if (typeof def === 'function') return fromFetch(def as Parameters<typeof fromFetch>[0]);
  if (def === undefined && typeof mod.handler === 'function') return mod.handler as Handler;
  const got = def === undefined ? 'no default export' : `a default export of type ${def === null ? 'null' : typeof def}`;
  throw new AppLoadError(
    `${file} has ${got}: export default a fetch handler (request => Response), an object with a fetch method ` +
    '(a Hono app), or, without a default export, a sluice handler named "handler"',
  );
}

/** GET and HEAD try `files` first; its 404 hands the request to `app`. Other methods go to the app. */
export function filesFirst(files: Handler, app: Handler): Handler {
  return (req: SluiceRequest) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return app(req);
    const r = files(req);
    if (r instanceof Promise) return r.then((res: SluiceResponse) => (res.status === 404 ? app(req) : res));
    return r.status === 404 ? app(req) : r;
  };
}
