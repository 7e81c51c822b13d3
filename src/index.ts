// sluice's library API.
export type { Handler, Headers, HeaderValue, ResponseBody, ResponseHeaders, SluiceRequest, SluiceResponse } from './http/types.js';
export { HttpError } from './http/errors.js';
export { RequestParser, DEFAULT_LIMITS, type ParserLimits, type RequestHead } from './http/parser.js';
export { handleConnection, Connection, type ConnectionOptions } from './http/connection.js';
export { serve, DEFAULT_PORT, type ServeOptions, type Server } from './server/server.js';
export { Listener } from './server/listener.js';
export { forEachConcurrent } from './server/concurrent.js';
export { Router, notFound } from './app/router.js';
export { serveStatic, type StaticOptions } from './app/static/index.js';
export { demoSite, SITE_DIR } from './app/site.js';
export { spawn, configureSpawn, closeSpawnPool } from './threads/spawn.js';
export { Lifecycle, type Phase } from './server/lifecycle.js';
export { startAdmin, adminHandler, type AdminOptions } from './ops/admin.js';
export { AccessLog, ErrorLog, type AccessLogOptions, type ErrorLogOptions } from './ops/log/access-log.js';
export type { LogFormat } from './ops/log/formats.js';
export { RequestMetrics, type Snapshot } from './ops/metrics/counters.js';
export { Aggregator } from './ops/metrics/aggregate.js';
