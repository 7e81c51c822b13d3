// What the program serves: the demo site, a folder, or an app file (with a folder's files
// first), under the site rules of the folder's config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { demoSite } from '../app/site.js';
import { serveStatic } from '../app/static/index.js';
import { applySiteRules } from '../app/config/index.js';
import type { Handler } from '../http/types.js';
import { loadApp, filesFirst } from '../fetch/app-file.js';
import type { CliConfig } from './args.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function siteHandler(config: CliConfig): Promise<Handler> {
  let inner: Handler;
  if (config.app !== undefined) {
    const app = await loadApp(config.app);
    inner = config.staticDir === undefined ? app : filesFirst(serveStatic(path.resolve(config.staticDir), config.static), app);
  } else {
    inner = config.dir === undefined ? demoSite({ sleepMs: config.sleepMs }) : serveStatic(path.resolve(config.dir), config.static);
  }
  return applySiteRules(inner, config.site);
}
