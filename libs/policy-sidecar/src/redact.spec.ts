import { describe, expect, it } from 'vitest';

import { redactFields } from './redact';

describe(redactFields.name, () => {
  it('removes a plain field name at every depth, in objects and lists', () => {
    const payload = {
      email: 'a@example.org',
      name: 'Ada',
      contact: { email: 'b@example.org', city: 'Paris' },
      others: [{ email: 'c@example.org', id: 1 }, 'email', 3],
    };

    expect(redactFields(payload, ['email'])).toEqual({
      name: 'Ada',
      contact: { city: 'Paris' },
      others: [{ id: 1 }, 'email', 3],
    });
  });

  it('removes a dotted path from the root only, applying the rest of the path to each element of a list', () => {
    const payload = {
      contact: { phone: '555', keep: true },
      contacts: [{ phone: '1' }, { phone: '2', name: 'x' }],
      nested: { contact: { phone: 'stays' } },
    };

    expect(redactFields(payload, ['contact.phone', 'contacts.phone'])).toEqual({
      contact: { keep: true },
      contacts: [{}, { name: 'x' }],
      nested: { contact: { phone: 'stays' } },
    });
  });

  it('never changes the original and returns it as it is when nothing matches', () => {
    const payload = { a: { b: 1 }, list: [{ c: 2 }] };
    const copy = structuredClone(payload);

    const out = redactFields(payload, ['email', 'a.x', 'list.c']);

    expect(payload).toEqual(copy);
    expect(out).toEqual({ a: { b: 1 }, list: [{}] });
    expect(redactFields(payload, ['missing'])).toBe(payload);
    expect((out as { a: unknown }).a).toBe(payload.a);
  });

  it('leaves scalars and empty field names alone', () => {
    expect(redactFields('text', ['email'])).toBe('text');
    expect(redactFields(null, ['email'])).toBeNull();
    expect(redactFields({ '': 1, a: 2 }, [''])).toEqual({ '': 1, a: 2 });
  });

  it('does not touch the prototype through a __proto__ key of a parsed payload', () => {
    const payload = JSON.parse('{"__proto__":{"email":"x"},"email":"y"}') as object;

    const out = redactFields(payload, ['email']) as Record<string, unknown>;

    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).email).toBeUndefined();
  });
});
