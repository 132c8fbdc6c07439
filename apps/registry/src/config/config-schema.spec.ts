import { describe, expect, it } from 'vitest';

import { configProblems, secretPaths, setAt, valueAt } from './config-schema';

const schema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
    level: { enum: ['low', 'high'] },
    retries: { type: 'integer', minimum: 0, exclusiveMaximum: 10 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    auth: { type: 'object', properties: { token: { type: 'string', secret: true } } },
    password: { type: 'string', writeOnly: true },
  },
};

describe(configProblems.name, () => {
  it('accepts a config that matches', () => {
    expect(
      configProblems(schema, { name: 'abc', level: 'low', retries: 3, tags: ['a'], auth: { token: 't' } }),
    ).toEqual([]);
  });

  it('lists every problem with its path', () => {
    const problems = configProblems(schema, {
      name: 'A',
      level: 'mid',
      retries: 10.5,
      tags: ['a', 'b', 3],
      other: 1,
    });

    expect(problems.map((problem) => problem.path).sort()).toEqual([
      'level',
      'name',
      'name',
      'other',
      'retries',
      'tags',
      'tags.2',
    ]);
  });

  it('asks for required fields and refuses keywords it does not implement', () => {
    expect(configProblems(schema, {})).toEqual([{ path: 'name', message: 'is required' }]);
    expect(
      configProblems({ type: 'object', properties: { a: { $ref: '#/x' } } }, { a: 1 })[0]?.message,
    ).toContain('unsupported keywords: $ref');
  });

  it('refuses an invalid or overlong pattern instead of running it', () => {
    expect(configProblems({ type: 'string', pattern: '(' }, 'x')).toHaveLength(1);
    expect(configProblems({ type: 'string', pattern: 'a'.repeat(201) }, 'a')).toHaveLength(1);
  });
});

describe(secretPaths.name, () => {
  it('finds secret and writeOnly properties at any depth of object properties', () => {
    expect(secretPaths(schema).sort()).toEqual(['auth.token', 'password']);
  });
});

describe('dotted paths', () => {
  it('read, set and remove nested values', () => {
    const root: Record<string, unknown> = { a: { b: 1 } };
    setAt(root, 'a.c', 2);
    setAt(root, 'x.y', 3);
    setAt(root, 'a.b', undefined);

    expect(root).toEqual({ a: { c: 2 }, x: { y: 3 } });
    expect(valueAt(root, 'x.y')).toBe(3);
    expect(valueAt(root, 'a.b')).toBeUndefined();
  });
});
