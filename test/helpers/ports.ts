// Fixed ports for tools whose configuration names them (HAProxy, nginx): picked at test time
// from this project's range, each checked free by binding it.
import net from 'node:net';

const RANGE_START = 27000;
const RANGE_SIZE = 1000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** `n` distinct ports in 27000-27999 that are free now. */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  const start = RANGE_START + Math.floor(Math.random() * RANGE_SIZE);
  for (let tried = 0; out.length < n && tried < RANGE_SIZE; tried++) {
    const port = RANGE_START + ((start + tried - RANGE_START) % RANGE_SIZE);
    if (await bindable(port)) out.push(port);
  }
  if (out.length < n) throw new Error(`fewer than ${n} free ports in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1}`);
  return out;
}
