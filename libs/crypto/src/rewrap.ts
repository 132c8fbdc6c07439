import { CryptoError } from './errors';
import type { EnvelopeCipher } from './envelope';

/** One sealed record as a {@link RewrapSource} pages it. */
export interface RewrapRow {
  readonly id: string;
  readonly sealed: string;
  /** The aad the value was sealed with. */
  readonly aad: string;
}

/**
 * A table (or anything) holding sealed values, paged by id in ascending order.
 * `rows(afterId, limit)` returns up to `limit` rows with id > `afterId` (all when undefined), in id order.
 */
export interface RewrapSource {
  rows(afterId: string | undefined, limit: number): Promise<RewrapRow[]>;
  /** Stores the re-wrapped value. Ideally conditional on the old value, so a concurrent write wins. */
  save(id: string, sealed: string): Promise<void>;
}

/** Options of {@link rewrapAll}. */
export interface RewrapOptions {
  /** @default 100 */
  readonly batchSize?: number;
  /**
   * Keep going past records that fail to decrypt and report their ids in `failed`, instead of throwing
   * at the first one.
   * @default false
   */
  readonly skipFailures?: boolean;
}

/** Outcome of {@link rewrapAll}. */
export interface RewrapResult {
  /** Records read. */
  scanned: number;
  /** Records saved under the current KEK. */
  rewrapped: number;
  /** Ids that failed (only with `skipFailures`). */
  failed: string[];
}

/**
 * The re-wrap job: pages through `source` and moves every value to the current KEK, leaving the data
 * untouched. Records already current are not saved. Run it after a rotation; safe to repeat.
 */
export async function rewrapAll(
  cipher: EnvelopeCipher,
  source: RewrapSource,
  options: RewrapOptions = {},
): Promise<RewrapResult> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError('rewrapAll: batchSize must be a positive integer');
  }
  const result: RewrapResult = { scanned: 0, rewrapped: 0, failed: [] };
  let afterId: string | undefined;
  for (;;) {
    const rows = await source.rows(afterId, batchSize);
    for (const row of rows) {
      result.scanned += 1;
      let next: string;
      try {
        next = await cipher.rewrap(row.sealed, row.aad);
      } catch (error) {
        if (options.skipFailures && error instanceof CryptoError) {
          result.failed.push(row.id);
          continue;
        }
        throw new CryptoError(
          error instanceof CryptoError ? error.code : 'decrypt_failed',
          `rewrap of record ${row.id} failed`,
          { cause: error },
        );
      }
      if (next !== row.sealed) {
        await source.save(row.id, next);
        result.rewrapped += 1;
      }
    }
    const last = rows[rows.length - 1];
    if (rows.length < batchSize || !last) {
      return result;
    }
    if (last.id === afterId) {
      throw new Error('rewrapAll: the source returned the same page twice; rows() must page by id');
    }
    afterId = last.id;
  }
}
