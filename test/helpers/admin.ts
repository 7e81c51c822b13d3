// The admin listener of a CLI started by startCli(): its base URL, from the line printed after
// the listening line ("sluice admin on http://HOST:PORT/ ...").
import { setTimeout as delay } from 'node:timers/promises';

export async function adminUrl(output: () => string, deadlineMs = 10_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const m = /sluice admin on (http:\/\/[^/\s]+)\//.exec(output());
    if (m) return m[1]!;
    if (Date.now() > end) throw new Error(`no admin line:\n${output()}`);
    await delay(20);
  }
}
