// Site configuration: `sluice.json` in the served folder (or a file named with --config), plus
// the CLI's shortcuts for the common cases (--cors, --header, --clean-urls).
//
//   schema.ts    the file's shape, checked field by field (clear errors)
//   patterns.ts  path patterns with captures, destinations
//   apply.ts     the handler wrapper: preflight, redirects, rewrites, response headers
//   load.ts      reading the file
import { existsSync } from 'node:fs';
import path from 'node:path';
import { compilePattern } from './patterns.js';
import { isHeaderName, isHeaderValue, SiteConfigError, type SiteRules } from './schema.js';
import { loadSiteConfig, SITE_CONFIG_NAME } from './load.js';

export { applySiteRules, hasHttpRules, mergeHeaders } from './apply.js';
export { checkSiteConfig, SiteConfigError, type SiteConfig, type SiteRules, type CorsConfig } from './schema.js';
export { loadSiteConfig, SITE_CONFIG_NAME } from './load.js';

export interface SiteFlags {
  /** The served folder (its sluice.json is read when `configFile` is not given). */
  dir?: string;
  configFile?: string;
  cors?: boolean;
  /** "Name: value" strings, for every path. */
  headers?: string[];
  cleanUrls?: boolean;
}

export const EMPTY_RULES: SiteRules = Object.freeze({
  cleanUrls: false, trailingSlash: undefined, cors: null, headers: [], redirects: [], rewrites: [],
}) as SiteRules;

/** Parses "Name: value" (a --header flag). Throws SiteConfigError. */
export function parseHeaderFlag(s: string): [string, string] {
  const colon = s.indexOf(':');
  const name = colon < 0 ? '' : s.slice(0, colon).trim();
  const value = colon < 0 ? '' : s.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!isHeaderName(name) || !isHeaderValue(value)) throw new SiteConfigError(`--header must look like "Name: value", got "${s}"`);
  return [name, value];
}

/**
 * The rules for a run: the config file (explicit, or DIR/sluice.json when it exists) with the
 * flags on top (flag headers come last, so they win). `configFile` is the file that was read.
 */
export function siteRulesFor(flags: SiteFlags): { rules: SiteRules; configFile: string | undefined } {
  let configFile = flags.configFile;
  if (configFile === undefined && flags.dir !== undefined) {
    const candidate = path.join(flags.dir, SITE_CONFIG_NAME);
    if (existsSync(candidate)) configFile = candidate;
  }
  const base = configFile === undefined ? EMPTY_RULES : loadSiteConfig(configFile);
  const rules: SiteRules = { ...base, headers: [...base.headers] };
  if (flags.cleanUrls) rules.cleanUrls = true;
  if (flags.cors && rules.cors === null) rules.cors = { origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86400 };
  if (flags.headers !== undefined && flags.headers.length > 0) {
    const headers: Record<string, string> = {};
    for (const h of flags.headers) {
      const [name, value] = parseHeaderFlag(h);
      headers[name] = value;
    }
    rules.headers.push({ pattern: compilePattern('/**'), headers });
  }
  return { rules, configFile };
}
