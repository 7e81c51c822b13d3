// The static file handler: `serveStatic(root, options)` answers GET and HEAD from a folder.
//
//   handler.ts         methods, the hot path, file-system failures → 503
//   cache.ts           what is known about files: entries, freshness by stat, memory bound
//   resolve.ts         the slow way: path → file, index, redirect, listing, clean URL, 404
//   representation.ts  preconditions, Range (single and multipart), the response
//   compress.ts        precompressed siblings and on-the-fly compression
//   paths.ts, conditional.ts, types.ts   pure helpers: paths, HTTP dates/tags/ranges, MIME types
//   listing.ts, listing-page.ts          directory listings (reading, HTML/JSON)
//   filestream.ts      a lazily opened file range stream
//   options.ts, responses.ts             options and fixed responses
export { serveStatic, staticStats, type StaticStats } from './handler.js';
export { DEFAULT_CACHE_CONTROL, type StaticOptions } from './options.js';
