/** Why a crypto operation failed. Stable values: callers switch on them. */
export type CryptoErrorCode = 'malformed' | 'unknown_kek_version' | 'decrypt_failed' | 'invalid_key';

const defaultMessages: Record<CryptoErrorCode, string> = {
  malformed: 'sealed value is malformed',
  unknown_kek_version: 'key-encryption key version is not available',
  decrypt_failed: 'sealed value failed authentication',
  invalid_key: 'key material is invalid',
};

/**
 * The one error `@vivified/crypto` throws for bad input, unknown keys and failed authentication.
 * Messages never contain key material, plaintext or ciphertext.
 */
export class CryptoError extends Error {
  /** Machine-readable reason. */
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? defaultMessages[code], options);
    this.name = 'CryptoError';
    this.code = code;
  }
}

/** True when `error` is a {@link CryptoError}, optionally with the given code. */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
