import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for test HTTPS servers, in a temporary folder. */
export interface TestCertificate {
  /** PEM files: the certificate doubles as the CA file a client trusts. */
  readonly certFile: string;
  readonly keyFile: string;
  /** Their contents, for `https.createServer({ key, cert })`. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Removes the folder. */
  remove(): void;
}

/**
 * A one-day self-signed P-256 certificate for `hosts` (the first is the subject's CN, all are DNS names of its
 * subjectAltName), made with the machine's `openssl`.
 */
export function selfSignedCertificate(hosts: readonly string[]): TestCertificate {
  const [first] = hosts;
  if (first === undefined) {
    throw new TypeError('selfSignedCertificate needs at least one host');
  }
  const dir = mkdtempSync(join(tmpdir(), 'vivified-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${first}`,
      '-addext',
      `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
    ],
    { stdio: 'ignore' },
  );

  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
