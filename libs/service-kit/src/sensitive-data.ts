/** The value written in place of a secret or PHI. */
export const MASK = '[REDACTED]';

/** Lower-case, separator-free forms of key names, so `client_secret`, `Client-Secret` and `clientSecret` match. */
function normalize(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Fragments that make a key a secret wherever they appear in it (`resetToken`, `dbPassword`). */
const secretFragments = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'apikey',
  'cookie',
  'creds',
  'credential',
  'privatekey',
  'signingkey',
  'sessionid',
  'backupcode',
];

/** Whole key names that are secrets only on their own (`otp` would match too much as a fragment). */
const secretKeys = new Set([
  'otp',
  'totp',
  'pin',
  'jwt',
  'bearer',
  'auth',
  'nkey',
  'seed',
  'kek',
  'dek',
  'iv',
  'salt',
]);

/** Fragments of PHI-shaped keys (HIPAA identifiers and clinical data). */
const phiFragments = [
  'patient',
  'ssn',
  'socialsecurity',
  'dateofbirth',
  'birthdate',
  'medicalrecord',
  'diagnos',
  'prescription',
  'medication',
  'healthplan',
  'insuranceid',
  'labresult',
  'clinicalnote',
];

/** Whole PHI key names. */
const phiKeys = new Set(['dob', 'mrn', 'icd10']);

/** Whether a key names a secret (password, token, credentials, cookie…), in any case or separator style. */
export function isSecretKey(key: string): boolean {
  const normalized = normalize(key);

  return secretKeys.has(normalized) || secretFragments.some((fragment) => normalized.includes(fragment));
}

/** Whether a key names PHI (SSN, date of birth, patient name, MRN, diagnosis…). */
export function isPhiKey(key: string): boolean {
  const normalized = normalize(key);

  return phiKeys.has(normalized) || phiFragments.some((fragment) => normalized.includes(fragment));
}

/** Answers of {@link isSensitiveKey} by key: key names come from code and repeat on every record and log line. */
const sensitiveKeys = new Map<string, boolean>();
/** Distinct keys remembered at most (keys built from data would otherwise grow the map without bound). */
const SENSITIVE_KEYS_REMEMBERED = 4_096;

/** Whether a value under this key must never be logged or audited in clear. */
export function isSensitiveKey(key: string): boolean {
  let sensitive = sensitiveKeys.get(key);
  if (sensitive === undefined) {
    sensitive = isSecretKey(key) || isPhiKey(key);
    if (sensitiveKeys.size >= SENSITIVE_KEYS_REMEMBERED) {
      sensitiveKeys.clear();
    }
    sensitiveKeys.set(key, sensitive);
  }

  return sensitive;
}

/** Key names that pino's `redact` paths list explicitly (exact spelling; {@link maskSensitive} catches variants). */
export const redactedKeyNames = [
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'password',
  'newPassword',
  'currentPassword',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'enrollmentToken',
  'apiKey',
  'api_key',
  'x-api-key',
  'creds',
  'credentials',
  'natsCreds',
  'privateKey',
  'totp',
  'backupCode',
  'ssn',
  'dob',
  'dateOfBirth',
  'mrn',
  'patientName',
  'patientId',
  'diagnosis',
] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;

  return proto === Object.prototype || proto === null;
}

/**
 * Masks sensitive keys at any depth in plain objects and arrays. Copy-on-write: returns the input itself
 * when nothing needed masking, so the common log line costs one walk and no allocation. Other objects
 * (errors, dates, buffers) are left as they are for their serializers.
 */
export function maskSensitive<T>(value: T, depth = 0, ancestors: WeakSet<object> = new WeakSet()): T {
  if (depth > 32 || typeof value !== 'object' || value === null || ancestors.has(value)) {
    return value;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) {
    return value;
  }
  ancestors.add(value);
  try {
    return (
      Array.isArray(value) ? maskArray(value, depth, ancestors) : maskObject(value, depth, ancestors)
    ) as T;
  } finally {
    ancestors.delete(value);
  }
}

function maskArray(value: unknown[], depth: number, ancestors: WeakSet<object>): unknown[] {
  let copy: unknown[] | undefined;
  value.forEach((item, index) => {
    const masked = maskSensitive(item, depth + 1, ancestors);
    if (masked !== item) {
      copy ??= [...value];
      copy[index] = masked;
    }
  });

  return copy ?? value;
}

function maskObject(
  value: Record<string, unknown>,
  depth: number,
  ancestors: WeakSet<object>,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const masked =
      isSensitiveKey(key) && item !== undefined && item !== null
        ? MASK
        : maskSensitive(item, depth + 1, ancestors);
    if (masked !== item) {
      copy ??= { ...value };
      copy[key] = masked;
    }
  }

  return copy ?? value;
}

/** Limits of {@link sanitizeDetails}. */
export interface SanitizeLimits {
  /** Deeper values become `'[TRUNCATED]'`. @default 6 */
  maxDepth?: number;
  /** Longer strings are cut. @default 1024 */
  maxStringLength?: number;
  /** Longer arrays are cut. @default 100 */
  maxArrayLength?: number;
}

const DEFAULT_LIMITS: Required<SanitizeLimits> = { maxDepth: 6, maxStringLength: 1024, maxArrayLength: 100 };
const NO_LIMITS_GIVEN: SanitizeLimits = Object.freeze({});

function toJsonSafe(
  value: unknown,
  depth: number,
  limits: Required<SanitizeLimits>,
  seen: WeakSet<object>,
): unknown {
  if (typeof value === 'string') {
    return value.length > limits.maxStringLength ? `${value.slice(0, limits.maxStringLength)}…` : value;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : String(value);
  }
  if (typeof value === 'boolean' || value === null) {
    return value;
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  if (typeof value !== 'object') {
    return undefined;
  }
  if (depth >= limits.maxDepth) {
    return '[TRUNCATED]';
  }
  if (seen.has(value)) {
    return '[CIRCULAR]';
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    return '[BINARY]';
  }
  if (value instanceof Error) {
    return { name: value.name };
  }
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value
        .slice(0, limits.maxArrayLength)
        .map((item) => toJsonSafe(item, depth + 1, limits, seen) ?? null);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const safe = isSensitiveKey(key) ? MASK : toJsonSafe(item, depth + 1, limits, seen);
      if (safe !== undefined) {
        out[key] = safe;
      }
    }

    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A JSON-safe, bounded copy of audit details: secret and PHI keys masked at any depth, strings, arrays and
 * depth capped, dates as ISO strings, errors reduced to their name (messages may quote input).
 */
export function sanitizeDetails(
  details: Record<string, unknown>,
  limits: SanitizeLimits = NO_LIMITS_GIVEN,
): Record<string, unknown> {
  const resolved: Required<SanitizeLimits> =
    limits === NO_LIMITS_GIVEN ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };

  return toJsonSafe(details, 0, resolved, new WeakSet()) as Record<string, unknown>;
}
