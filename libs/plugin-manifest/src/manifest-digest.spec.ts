import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { canonicalJson } from '@vivified/contracts';

import { manifestDigest } from './manifest-digest';
import { aManifest } from './testing/manifest-builder';
import { validateManifest } from './validate-manifest';

describe(manifestDigest.name, () => {
  it('is the SHA-256 of the canonical JSON, lower-case hex', () => {
    const manifest = aManifest();
    expect(manifestDigest(manifest)).toBe(createHash('sha256').update(canonicalJson(manifest)).digest('hex'));
    expect(manifestDigest(manifest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order, at any level', () => {
    const manifest = aManifest();
    const reordered = Object.fromEntries(
      Object.entries(structuredClone(manifest)).reverse(),
    ) as typeof manifest;
    reordered.security = { dataClassification: ['internal'], authenticationRequired: true };
    expect(manifestDigest(reordered)).toBe(manifestDigest(manifest));
  });

  it('is the same for the input and the validated instance', () => {
    const input = aManifest((m) => (m.configSchema = { type: 'object', properties: { b: {}, a: {} } }));
    const validated = validateManifest(input).manifest;
    expect(validated).toBeDefined();
    expect(manifestDigest(validated!)).toBe(manifestDigest(input));
  });

  it('changes with any content, array order included', () => {
    const digest = manifestDigest(aManifest());
    expect(manifestDigest(aManifest((m) => (m.version = '1.2.4')))).not.toBe(digest);
    expect(manifestDigest(aManifest((m) => m.traits.reverse()))).not.toBe(digest);
    expect(manifestDigest(aManifest((m) => (m.rateLimits = { send: 601 })))).not.toBe(digest);
  });
});

describe(canonicalJson.name, () => {
  it('sorts keys, keeps array order, drops undefined members and has no whitespace', () => {
    expect(canonicalJson({ b: [3, 1, { d: 1, c: undefined, a: 'x y' }], a: null })).toBe(
      '{"a":null,"b":[3,1,{"a":"x y","d":1}]}',
    );
  });
});
