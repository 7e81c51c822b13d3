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
export { fromFetch, isFetchApp, type FetchApp, type FetchHandler, type FetchInfo, type FromFetchOptions } from './fetch/adapter.js';
export { FastResponse, installGlobals } from './fetch/globals.js';
