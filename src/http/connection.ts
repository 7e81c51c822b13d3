// The HTTP/1.1 connection: the public entry points. The engine lives in h1/, one question per file
// (state.ts: the states and their transitions; framing.ts: response framing as a pure function;
// output.ts: output buffering; body-writer.ts: streamed bodies; deadlines.ts: the timer wheel;
// options.ts: settings; base.ts: the connection's core, states and deadline; respond.ts: the
// writing side; connection.ts: the reading side and the public API).
export { Connection, handleConnection } from './h1/connection.js';
export { destroyBody, streamInfo } from './h1/base.js';
export type { ConnectionOptions, ResponseRecord } from './h1/options.js';
