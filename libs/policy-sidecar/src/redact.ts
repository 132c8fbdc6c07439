function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Most levels a payload is walked; the transport's size limit keeps real payloads far shallower. */
const MAX_DEPTH = 64;

/** Removes `key` from every object at any depth (arrays walked element by element). */
function stripEverywhere(value: unknown, key: string, depth: number): unknown {
  if (depth > MAX_DEPTH) {
    return value;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = stripEverywhere(item, key, depth + 1);
      changed ||= next !== item;

      return next;
    });

    return changed ? out : value;
  }
  if (!isRecord(value)) {
    return value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [name, item] of Object.entries(value)) {
    if (name === key) {
      out ??= { ...value };
      delete out[name];
      continue;
    }
    const next = stripEverywhere(item, key, depth + 1);
    if (next !== item) {
      out ??= { ...value };
      out[name] = next;
    }
  }

  return out ?? value;
}

/** Removes the field at `path` (from the root; an array on the way is walked element by element). */
function stripPath(value: unknown, path: readonly string[], depth: number): unknown {
  if (depth > MAX_DEPTH || path.length === 0) {
    return value;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = stripPath(item, path, depth + 1);
      changed ||= next !== item;

      return next;
    });

    return changed ? out : value;
  }
  const [head, ...rest] = path;
  if (!isRecord(value) || head === undefined || !Object.hasOwn(value, head)) {
    return value;
  }
  if (rest.length === 0) {
    const out = { ...value };
    delete out[head];

    return out;
  }
  const next = stripPath(value[head], rest, depth + 1);
  if (next === value[head]) {
    return value;
  }

  return { ...value, [head]: next };
}

/**
 * Strips the fields a `sanitize` decision names from a payload, without changing the original:
 * - a plain name (`email`, as the engine's PII list has it) is removed from every object at any depth, so PII
 *   nested in a sub-object or a list does not slip through;
 * - a dotted path (`contact.email`) is removed where it points, from the root; an array on the way applies the
 *   rest of the path to each element (`contacts.email` strips `email` of every contact).
 *
 * Anything that is not a plain JSON object or array is left as it is.
 */
export function redactFields(payload: unknown, fields: readonly string[]): unknown {
  let out = payload;
  for (const field of fields) {
    if (typeof field !== 'string' || field.length === 0) {
      continue;
    }
    const path = field.split('.');
    out = path.length === 1 ? stripEverywhere(out, field, 0) : stripPath(out, path, 0);
  }

  return out;
}
