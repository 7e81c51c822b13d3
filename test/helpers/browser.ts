// A real browser for page tests: Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) driven
// by playwright-core, nothing downloaded. Every page records its console errors and uncaught
// exceptions. Two ways in: launchChromium() for a test that opens several pages and closes the
// browser itself, visit() for one page under one deadline (a hung browser fails the test
// instead of stalling it).
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface OpenedPage {
  page: Page;
  /** Console messages of type "error" and uncaught page errors, so far. */
  errors: string[];
  /** The HTTP status of the main document. */
  status: number | undefined;
}

export interface TestBrowser {
  open(url: string, options?: BrowserContextOptions): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchChromium(timeoutMs = 30_000): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: timeoutMs });
  return {
    async open(url, options = {}) {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      page.setDefaultTimeout(timeoutMs);
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      const res = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
      return { page, errors, status: res?.status() };
    },
    close: () => browser.close(),
  };
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
export async function visit<T>(url: string, fn: (v: OpenedPage) => Promise<T>, opts: VisitOptions = {}): Promise<T> {
  const deadlineMs = opts.deadlineMs ?? 30_000;
  let browser: TestBrowser | null = null;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`browser visit of ${url} took more than ${deadlineMs} ms`)), deadlineMs);
  });
  const work = (async () => {
    browser = await launchChromium(deadlineMs);
    const opened = await browser.open(url, { viewport: opts.viewport ?? { width: 1000, height: 700 }, colorScheme: opts.colorScheme ?? 'light' });
    const result = await fn(opened);
    if (opts.screenshot !== undefined) await opened.page.screenshot({ path: opts.screenshot, fullPage: true });
    return result;
  })();
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    await (browser as TestBrowser | null)?.close().catch(() => {});
  }
}
