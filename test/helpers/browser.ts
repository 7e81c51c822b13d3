// A real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) for page tests:
// open a URL, collect console errors and page errors, optionally take a screenshot, always close.
// Everything runs under one deadline, so a hung browser fails the test instead of stalling it.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface PageVisit {
  page: Page;
  /** Console messages of type "error" and uncaught page errors, so far. */
  errors: string[];
  /** The HTTP status of the main document. */
  status: number | undefined;
}

export interface VisitOptions {
  /** Whole visit (launch, load, `fn`, close). Default 30000 ms. */
  deadlineMs?: number;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** Writes a full-page PNG here after `fn`. */
  screenshot?: string;
}

/** Opens `url` in a fresh headless Chromium, runs `fn` on the page, closes the browser. */
export async function visit<T>(url: string, fn: (v: PageVisit) => Promise<T>, opts: VisitOptions = {}): Promise<T> {
  const deadlineMs = opts.deadlineMs ?? 30_000;
  let browser: Browser | null = null;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser visit of ${url} took more than ${deadlineMs} ms`)), deadlineMs);
  });
  const work = (async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: deadlineMs });
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1000, height: 700 }, colorScheme: opts.colorScheme ?? 'light' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const res = await page.goto(url, { waitUntil: 'load', timeout: deadlineMs });
    const result = await fn({ page, errors, status: res?.status() });
    if (opts.screenshot !== undefined) await page.screenshot({ path: opts.screenshot, fullPage: true });
    return result;
  })();
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    await (browser as Browser | null)?.close().catch(() => {});
  }
}
