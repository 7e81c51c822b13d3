// A throw-away certificate for local development (--tls-self-signed): EC P-256, valid for
// localhost, 127.0.0.1 and ::1 for 30 days, made at start-up by the `selfsigned` package.
import { generate } from 'selfsigned';

export const SELF_SIGNED_NAMES = ['localhost', '127.0.0.1', '::1'];

export async function selfSignedPair(): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000); // a client clock a little behind still accepts it
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'sluice self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 30 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
