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
export { TlsConfigError, INTERMEDIATE_CIPHERS, type TlsOption, type TlsPair, type TlsSettings } from './tls/options.js';
export type { TlsFront, TlsClientErrors } from './tls/front.js';
export { redirectToHttps } from './tls/redirect.js';
export type { Http2Options } from './h2/session.js';
