/**
 * `@vivified/crypto`: secrets and PHI at rest (see docs/crypto.md and ADR-0005).
 *
 * - {@link EnvelopeCipher}: AES-256-GCM envelope encryption, a random data key per record wrapped by a
 *   versioned KEK; `rewrap` / {@link rewrapAll} move records to the current KEK after a rotation.
 * - {@link KekProvider}: where KEKs come from — {@link StaticKekProvider} (inline `VIVIFIED_KEK`),
 *   {@link FileKekProvider} (`VIVIFIED_KEK_FILE`, created 0600 on first use); {@link createKekProvider} picks.
 * - {@link KeyedHasher}: HMAC-SHA256 for searchable identifiers, keyed per purpose, stable across rotation.
 * - {@link randomToken}, {@link constantTimeEqual}.
 *
 * Errors are {@link CryptoError} with a `code`; no message ever contains key material or data.
 */
export { createKekProvider } from './create-kek-provider';
export type { KekProviderOptions } from './create-kek-provider';
export { EnvelopeCipher, SEALED_FORMAT, isSealed } from './envelope';
export { CryptoError, isCryptoError } from './errors';
export type { CryptoErrorCode } from './errors';
export { FileKekProvider } from './file-kek-provider';
export type { FileKekProviderOptions } from './file-kek-provider';
export { KEY_BYTES, StaticKekProvider } from './kek';
export type { KekProvider, KekSummary, KeyEncryptionKey } from './kek';
export { KeyedHasher } from './keyed-hash';
export { constantTimeEqual, randomToken } from './random';
export { rewrapAll } from './rewrap';
export type { RewrapOptions, RewrapResult, RewrapRow, RewrapSource } from './rewrap';
