/**
 * The JSON Schema subset a manifest's `configSchema` may use (docs/registry.md): `type` (one or a list),
 * `properties`, `required`, `additionalProperties` (boolean or schema), `enum`, `const`, `minLength`,
 * `maxLength`, `pattern`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `items`, `minItems`,
 * `maxItems`, and the annotations `title`, `description`, `default`, `examples`, `format`, `$schema`,
 * `$comment`, `readOnly`. A property marked `"secret": true` or `"writeOnly": true` is a secret: encrypted at rest,
 * never answered to users. Any other keyword is refused rather than silently ignored.
 */

/** One problem of a config value against its schema. */
export interface ConfigProblem {
  /** Dotted path (`smtp.port`); empty for the whole config. */
  path: string;
  message: string;
}

type Schema = Record<string, unknown>;

const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'items',
  'minItems',
  'maxItems',
  'title',
  'description',
  'default',
  'examples',
  'format',
  '$schema',
  '$comment',
  'readOnly',
  'writeOnly',
  'secret',
]);

/** Patterns are the plugin author's: bounded in length, and only run on bounded strings. */
const MAX_PATTERN_LENGTH = 200;
const MAX_PATTERN_INPUT = 10_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const join = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);

function typeOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'array';
  }

  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === 'integer') {
    return typeof value === 'number' && Number.isInteger(value);
  }

  return actual === type;
}

function check(schema: unknown, value: unknown, path: string, out: ConfigProblem[]): void {
  if (schema === true || schema === undefined) {
    return;
  }
  if (schema === false) {
    out.push({ path, message: 'is not allowed' });

    return;
  }
  if (!isObject(schema)) {
    out.push({ path, message: 'has an invalid schema' });

    return;
  }
  const unsupported = Object.keys(schema).filter((keyword) => !KEYWORDS.has(keyword));
  if (unsupported.length > 0) {
    out.push({ path, message: `the config schema uses unsupported keywords: ${unsupported.join(', ')}` });

    return;
  }
  const s = schema as Schema;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((type) => matchesType(value, type))) {
      out.push({ path, message: `must be of type ${types.join(' or ')}` });

      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    out.push({ path, message: `must be one of ${JSON.stringify(s.enum)}` });
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) {
    out.push({ path, message: `must be ${JSON.stringify(s.const)}` });
  }
  if (typeof value === 'string') {
    checkString(s, value, path, out);
  }
  if (typeof value === 'number') {
    checkNumber(s, value, path, out);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) {
      out.push({ path, message: `must have at least ${s.minItems} items` });
    }
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) {
      out.push({ path, message: `must have at most ${s.maxItems} items` });
    }
    if (s.items !== undefined) {
      value.forEach((item, index) => check(s.items, item, join(path, index), out));
    }
  }
  if (isObject(value)) {
    checkObject(s, value, path, out);
  }
}

function checkString(s: Schema, value: string, path: string, out: ConfigProblem[]): void {
  const length = [...value].length;
  if (typeof s.minLength === 'number' && length < s.minLength) {
    out.push({ path, message: `must be at least ${s.minLength} characters` });
  }
  if (typeof s.maxLength === 'number' && length > s.maxLength) {
    out.push({ path, message: `must be at most ${s.maxLength} characters` });
  }
  if (typeof s.pattern === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = s.pattern.length <= MAX_PATTERN_LENGTH ? new RegExp(s.pattern, 'u') : undefined;
    } catch {
      pattern = undefined;
    }
    if (!pattern) {
      out.push({ path, message: 'the config schema has an invalid or too long pattern' });
    } else if (value.length > MAX_PATTERN_INPUT || !pattern.test(value)) {
      out.push({ path, message: `must match ${s.pattern}` });
    }
  }
}

function checkNumber(s: Schema, value: number, path: string, out: ConfigProblem[]): void {
  if (typeof s.minimum === 'number' && value < s.minimum) {
    out.push({ path, message: `must be at least ${s.minimum}` });
  }
  if (typeof s.maximum === 'number' && value > s.maximum) {
    out.push({ path, message: `must be at most ${s.maximum}` });
  }
  if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) {
    out.push({ path, message: `must be more than ${s.exclusiveMinimum}` });
  }
  if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) {
    out.push({ path, message: `must be less than ${s.exclusiveMaximum}` });
  }
}

function checkObject(s: Schema, value: Record<string, unknown>, path: string, out: ConfigProblem[]): void {
  const properties = isObject(s.properties) ? s.properties : {};
  for (const name of Array.isArray(s.required) ? (s.required as string[]) : []) {
    if (value[name] === undefined) {
      out.push({ path: join(path, name), message: 'is required' });
    }
  }
  for (const [key, item] of Object.entries(value)) {
    if (Object.hasOwn(properties, key)) {
      check(properties[key], item, join(path, key), out);
    } else if (s.additionalProperties !== undefined) {
      check(s.additionalProperties, item, join(path, key), out);
    }
  }
}

/** Every problem of `value` against `schema` (empty: valid). */
export function configProblems(schema: Record<string, unknown>, value: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  check(schema, value, '', out);

  return out;
}

/** Dotted paths of the secret properties (`secret` or `writeOnly`), through nested object properties. */
export function secretPaths(schema: Record<string, unknown>, path = ''): string[] {
  if (!isObject(schema.properties)) {
    return [];
  }

  return Object.entries(schema.properties).flatMap(([key, property]) => {
    if (!isObject(property)) {
      return [];
    }
    const here = join(path, key);

    return property.secret === true || property.writeOnly === true ? [here] : secretPaths(property, here);
  });
}

/** The value at a dotted path of nested objects. */
export function valueAt(root: Record<string, unknown>, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split('.')) {
    value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  }

  return value;
}

/** Sets (or, with `undefined`, removes) the value at a dotted path, creating objects on the way. */
export function setAt(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = root;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(target[key])) {
      if (value === undefined) {
        return;
      }
      target[key] = {};
    }
    target = target[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) {
    delete target[last];
  } else {
    target[last] = value;
  }
}
