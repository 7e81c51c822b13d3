// A TLS set-up the user got wrong (missing or unreadable key, bad certificate...) is a usage
// error: message and exit 2. Anything else is a bug and is rethrown.
import { TlsConfigError } from '../tls/options.js';
import { fail } from './fail.js';

export function badTls(err: unknown): never {
  if (!(err instanceof TlsConfigError)) throw err;
  return fail(err.message);
}
