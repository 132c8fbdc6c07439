/**
 * Lenient readers over an unvalidated manifest: the security rules run even when the schema failed (so that one
 * answer lists every problem), and read only the parts that have a usable shape. Malformed parts are the
 * schema's violations already.
 */

/** A JSON object, or undefined for anything else. */
export function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  const record = asObject(value);
  const child = record === undefined ? undefined : ownValue(record, key);

  return asObject(child);
}

/** The value as a JSON object, or undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** An own property (never one of Object.prototype). */
export function ownValue(record: Record<string, unknown> | undefined, key: string): unknown {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** The strings of a list with their indexes; non-strings are skipped. */
export function stringsAt(record: Record<string, unknown> | undefined, key: string): Array<[number, string]> {
  const list = ownValue(record, key);
  if (!Array.isArray(list)) {
    return [];
  }

  return list.flatMap(
    (item, index): Array<[number, string]> => (typeof item === 'string' ? [[index, item]] : []),
  );
}

/** The objects of a list with their indexes; anything else is skipped. */
export function objectsAt(
  record: Record<string, unknown> | undefined,
  key: string,
): Array<[number, Record<string, unknown>]> {
  const list = ownValue(record, key);
  if (!Array.isArray(list)) {
    return [];
  }

  return list.flatMap((item, index): Array<[number, Record<string, unknown>]> => {
    const object = asObject(item);

    return object === undefined ? [] : [[index, object]];
  });
}

/** A string property, or undefined. */
export function stringAt(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = ownValue(record, key);

  return typeof value === 'string' ? value : undefined;
}

/** A finite number property, or undefined. */
export function numberAt(record: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = ownValue(record, key);

  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
