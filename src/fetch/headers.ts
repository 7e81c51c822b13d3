// A request's `headers` as a web-standard Headers, read straight from the parser's field list:
// get() and has() scan the fields, everything else builds a real Headers once and delegates.
// It passes `instanceof Headers` (its prototype chain includes Headers.prototype).
import { FieldList } from '../http/fields.js';
import type { Headers as SluiceHeaders } from '../http/types.js';

/** The platform's classes, captured before anything replaces the globals (see globals.ts). */
export const NativeHeaders: typeof Headers = globalThis.Headers;

/** The separator of repeated field lines in get(): ", ", but "; " for Cookie (as node:http and RFC 9113 do). */
const sep = (lower: string) => (lower === 'cookie' ? '; ' : ', ');

export class RequestHeaders {
  /** @internal */ _fields: SluiceHeaders;
  /** @internal Built on first use of anything but get()/has(). */ _native: Headers | null = null;

  constructor(fields: SluiceHeaders) {
    this._fields = fields;
  }

  get(name: string): string | null {
    if (this._native !== null) return this._native.get(name);
    const lower = String(name).toLowerCase();
    const fields = this._fields;
    if (!(fields instanceof FieldList)) {
      const all = fields.getAll(lower);
      return all.length === 0 ? null : all.join(sep(lower));
    }
    // One pass over the parser's arrays, no allocation unless the field is repeated.
    const values = fields.values;
    let found: string | null = null;
    for (let i = 0; i < values.length; i++) {
      if (fields.lowerName(i) === lower) found = found === null ? values[i]! : found + sep(lower) + values[i]!;
    }
    return found;
  }

  has(name: string): boolean {
    if (this._native !== null) return this._native.has(name);
    return this._fields.has(String(name).toLowerCase());
  }

  /** @internal The real Headers, built once (repeated Cookie lines joined with "; "). */
  _materialize(): Headers {
    if (this._native !== null) return this._native;
    const h = new NativeHeaders();
    let cookie: string | null = null;
    for (const [name, value] of this._fields.entries()) {
      if (name.length === 6 && name.toLowerCase() === 'cookie') cookie = cookie === null ? value : `${cookie}; ${value}`;
      else h.append(name, value);
    }
    if (cookie !== null) h.append('cookie', cookie);
    return (this._native = h);
  }

  // Request headers are immutable, as on a native Request ("request" guard).
  set(): void { throw new TypeError('Headers of an incoming request are immutable'); }
  append(): void { throw new TypeError('Headers of an incoming request are immutable'); }
  delete(): void { throw new TypeError('Headers of an incoming request are immutable'); }

  getSetCookie(): string[] { return this._materialize().getSetCookie(); }
  keys(): IterableIterator<string> { return this._materialize().keys(); }
  values(): IterableIterator<string> { return this._materialize().values(); }
  entries(): IterableIterator<[string, string]> { return this._materialize().entries(); }
  forEach(cb: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this._materialize().forEach((v, k) => cb.call(thisArg, v, k, this as unknown as Headers));
  }
  [Symbol.iterator](): IterableIterator<[string, string]> { return this._materialize().entries(); }
}

/**
 * Makes `Lazy.prototype` pass for `Native.prototype`: chains it in, and gives every member of the
 * native prototype that Lazy does not define itself a stand-in that forwards to `materialize(this)`
 * (the native methods refuse any object but a real instance).
 */
export function inheritNative(lazy: { prototype: object }, native: { prototype: object }, materialize: (self: never) => object): void {
  const own = new Set<PropertyKey>(Reflect.ownKeys(lazy.prototype));
  for (const key of Reflect.ownKeys(native.prototype)) {
    if (own.has(key) || key === 'constructor' || key === Symbol.toStringTag) continue;
    const d = Object.getOwnPropertyDescriptor(native.prototype, key)!;
    if (typeof d.value === 'function') {
      Object.defineProperty(lazy.prototype, key, {
        configurable: true, writable: true,
        value: function (this: never, ...args: unknown[]) { const n = materialize(this) as Record<PropertyKey, (...a: unknown[]) => unknown>; return n[key]!(...args); },
      });
    } else if (d.get !== undefined) {
      Object.defineProperty(lazy.prototype, key, {
        configurable: true,
        get(this: never) { return (materialize(this) as Record<PropertyKey, unknown>)[key]; },
      });
    }
  }
  Object.setPrototypeOf(lazy.prototype, native.prototype);
}

inheritNative(RequestHeaders, NativeHeaders, (self: RequestHeaders) => self._materialize());
Object.defineProperty(RequestHeaders.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: RequestHeaders) { return this._materialize(); },
});
