import { describe, expect, it } from 'vitest';

import { declaresType, sourceIdOf } from './publish.service';

describe('declaresType', () => {
  it('matches a manifest entry by type, and by major when the entry pins a version', () => {
    expect(declaresType(['UserCreated'], 'UserCreated', '1.0')).toBe(true);
    expect(declaresType(['UserCreated@1.0'], 'UserCreated', '1.3')).toBe(true);
    expect(declaresType(['UserCreated@1.0'], 'UserCreated', '2.0')).toBe(false);
    expect(declaresType(['acme.invoice.paid@2.1'], 'acme.invoice.paid', '2.0')).toBe(true);
    expect(declaresType(['UserCreated'], 'UserUpdated', '1.0')).toBe(false);
    expect(declaresType(undefined, 'UserCreated', '1.0')).toBe(false);
  });
});

describe('sourceIdOf', () => {
  it('is the plugin id for plugins and kind:id for core services', () => {
    expect(sourceIdOf({ kind: 'plugin', id: 'acme-crm', traits: [], roles: [] })).toBe('acme-crm');
    expect(sourceIdOf({ kind: 'service', id: 'identity', traits: [], roles: [] })).toBe('service:identity');
  });
});
