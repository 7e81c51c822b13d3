// Content-Type of a file (from the `mime` package) and whether it is worth compressing.
import mime from 'mime';

const typeMemo = new Map<string, { type: string; compressible: boolean }>();

/** Textual types: text/*, JavaScript, JSON, XML and their +json / +xml relatives (SVG, Atom…). */
export function isTextual(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type.endsWith('+json') ||
    type.endsWith('+xml') ||
    type === 'application/json' ||
    type === 'application/javascript' ||
    type === 'application/x-javascript' ||
    type === 'application/ecmascript' ||
    type === 'application/xml' ||
    type === 'application/xml-dtd' ||
    type === 'application/x-sh' ||
    type === 'application/x-httpd-php'
  );
}

/** Types that compress well (not images/video/audio/archives/woff, which are compressed already). */
export function isCompressible(type: string): boolean {
  return (
    isTextual(type) ||
    type === 'application/wasm' ||
    type === 'application/vnd.ms-fontobject' ||
    type === 'font/ttf' ||
    type === 'font/otf' ||
    type === 'font/collection' ||
    type === 'image/bmp' ||
    type === 'image/vnd.microsoft.icon' ||
    type === 'image/x-icon' ||
    type === 'application/x-tar' ||
    type === 'application/postscript' ||
    type === 'application/rtf'
  );
}

/** Content-Type header value for a file name, with `charset=utf-8` for textual types. */
export function contentTypeFor(fileName: string): { type: string; compressible: boolean } {
  const dot = fileName.lastIndexOf('.');
  const slash = fileName.lastIndexOf('/');
  const ext = dot > slash + 1 ? fileName.slice(dot + 1).toLowerCase() : '';
  const hit = typeMemo.get(ext);
  if (hit !== undefined) return hit;
  const type = (ext === '' ? null : mime.getType(ext)) ?? 'application/octet-stream';
  const result = {
    type: isTextual(type) ? `${type}; charset=utf-8` : type,
    compressible: isCompressible(type),
  };
  if (typeMemo.size < 1024) typeMemo.set(ext, result);
  return result;
}
