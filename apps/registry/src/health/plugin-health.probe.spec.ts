import { describe, expect, it } from 'vitest';

import { healthUrlOf } from './plugin-health.probe';

describe(healthUrlOf.name, () => {
  it.each([
    ['https://crm.example.org/vivified/events', '/health', 'https://crm.example.org/health'],
    [
      'https://crm.example.org:8443/hooks?x=1',
      '/status?deep=1',
      'https://crm.example.org:8443/status?deep=1',
    ],
    ['https://crm.example.org', '//evil.example.net/x', 'https://crm.example.org//evil.example.net/x'],
    ['https://crm.example.org', '/@evil.example.net', 'https://crm.example.org/@evil.example.net'],
  ])('%s + %s → %s (the webhook origin, never another)', (webhook, path, expected) => {
    expect(healthUrlOf(webhook, path)?.href).toBe(expected);
  });

  it.each([
    ['no webhook', undefined, '/health'],
    ['no path', 'https://crm.example.org', undefined],
    ['plain http', 'http://crm.example.org', '/health'],
    ['credentials', 'https://user:pw@crm.example.org', '/health'],
    ['a relative path', 'https://crm.example.org', 'health'],
    ['not a URL', 'crm.example.org', '/health'],
  ])('refuses %s', (_case, webhook, path) => {
    expect(healthUrlOf(webhook, path)).toBeUndefined();
  });
});
