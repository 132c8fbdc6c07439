import type { AuditRecord } from '@vivified/contracts';
import { isPhiKey, isSecretKey, MASK } from '@vivified/service-kit';

/** Keyed hash of an identifier, as `hmac:<hex>`: searchable, not readable. */
export type IdentifierHasher = (value: string) => string;

/** Normalized PHI keys whose values identify a person: kept as keyed hashes rather than masked. */
const identifierKeys = new Set([
  'patientid',
  'mrn',
  'medicalrecordnumber',
  'ssn',
  'socialsecuritynumber',
  'insuranceid',
  'healthplanid',
  'email',
  'emailaddress',
  'phone',
  'phonenumber',
]);

/** Normalized PII keys (not covered by the emitter's PHI list) that are masked. */
const piiKeys = new Set(['address', 'streetaddress', 'firstname', 'lastname', 'fullname', 'zip', 'zipcode']);

const normalize = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Secret- and PHI-shaped values, one pass over a string (in this order at any position): a JWT, a bearer or basic
 * credential, an SSN, a card number — each masked — or an e-mail address (group 1), hashed.
 */
const SHAPED = new RegExp(
  [
    /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/.source,
    /\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/.source,
    /\b\d{3}-\d{2}-\d{4}\b/.source,
    /\b(?:\d[ -]?){13,19}\b/.source,
    /\b([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/.source,
  ].join('|'),
  'gi',
);
/** Nothing in a string without these can match {@link SHAPED}: most values skip the scan. */
const MAYBE_SHAPED = /eyj|bearer|basic|\d{3}|@/i;
/** NUL: PostgreSQL text and jsonb refuse it. */
const NUL = /\u0000/g;
/** Lone surrogates: jsonb refuses their escapes. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string PostgreSQL can store: NUL removed, lone surrogates replaced. */
export function storable(value: string): string {
  return value.replace(NUL, '').replace(LONE_SURROGATE, '\ufffd');
}

/**
 * The ingest-side sanitizer: the emitter (service-kit) already masks secret and PHI keys, but a record may come
 * from an older or faulty emitter. Secret keys and PHI/PII keys are masked; identifiers (patient ids, MRNs,
 * emails) become keyed hashes so they stay searchable; secret-shaped and PHI-shaped values (JWTs, bearer
 * credentials, SSNs, card numbers) are masked and e-mail addresses hashed wherever they appear.
 */
export class IngestSanitizer {
  constructor(private readonly hashIdentifier: IdentifierHasher) {}

  /** A sanitized copy of the record. */
  record(record: AuditRecord): AuditRecord {
    return {
      ...record,
      ...(record.target === undefined ? {} : { target: this.target(record.target) }),
      details: this.value(record.details, 0) as Record<string, unknown>,
    };
  }

  /** `patient:<id>` targets keep their kind and hash the id. */
  target(target: string): string {
    const match = /^([a-z_-]+):(.+)$/i.exec(target);
    if (match && isPhiKey(match[1] ?? '')) {
      return `${match[1]}:${this.hashIdentifier(match[2] ?? '')}`;
    }

    return this.text(target);
  }

  private value(value: unknown, depth: number): unknown {
    if (typeof value === 'string') {
      return this.text(value);
    }
    if (value === null || typeof value !== 'object' || depth > 16) {
      return typeof value === 'object' && value !== null ? '[TRUNCATED]' : value;
    }
    if (Array.isArray(value)) {
      return value.map((item) => this.value(item, depth + 1));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[storable(key)] = this.entry(key, item, depth);
    }

    return out;
  }

  private entry(key: string, item: unknown, depth: number): unknown {
    if (item === null || item === undefined || item === MASK) {
      return item ?? null;
    }
    const normalized = normalize(key);
    if (isSecretKey(key)) {
      return MASK;
    }
    if (identifierKeys.has(normalized) && (typeof item === 'string' || typeof item === 'number')) {
      return this.hashIdentifier(String(item));
    }
    if (isPhiKey(key) || identifierKeys.has(normalized) || piiKeys.has(normalized)) {
      return MASK;
    }

    return this.value(item, depth + 1);
  }

  private text(value: string): string {
    const clean = storable(value);

    return MAYBE_SHAPED.test(clean)
      ? clean.replace(SHAPED, (_match, email: string | undefined) =>
          email === undefined ? MASK : this.hashIdentifier(email.toLowerCase()),
        )
      : clean;
  }
}
