// Reading a site config file: JSON, then checked (schema.ts). Any problem is a SiteConfigError
// whose message names the file and the field (or the JSON error), for the CLI to print with exit 2.
import { readFileSync } from 'node:fs';
import { checkSiteConfig, SiteConfigError, type SiteRules } from './schema.js';

/** The name looked for in a served folder. */
export const SITE_CONFIG_NAME = 'sluice.json';

export function loadSiteConfig(file: string): SiteRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SiteConfigError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SiteConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return checkSiteConfig(value, file);
}
