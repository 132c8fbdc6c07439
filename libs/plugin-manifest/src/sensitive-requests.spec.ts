import { describe, expect, it } from 'vitest';

import { sensitiveRequests } from './sensitive-requests';
import { aManifest, aPhiManifest } from './testing/manifest-builder';

describe(sensitiveRequests.name, () => {
  it('asks nothing for a plugin without sensitive traits, domains or webhook', () => {
    expect(sensitiveRequests(aManifest())).toEqual({ traits: [], domains: [], requiresApproval: false });
  });

  it('lists the sensitive traits, canonical and in a fixed order', () => {
    const manifest = aManifest((m) => {
      m.traits = [
        'external_service',
        'pii_processor',
        'audit_required',
        'handles_confidential',
        'hipaa_authorized',
      ];
      m.allowedDomains = ['api.acme.io'];
    });
    expect(sensitiveRequests(manifest).traits).toEqual([
      'handles_phi',
      'handles_pii',
      'handles_confidential',
      'external_service',
    ]);
  });

  it('counts PHI as sensitive', () => {
    expect(sensitiveRequests(aPhiManifest())).toMatchObject({
      traits: ['handles_phi'],
      requiresApproval: true,
    });
  });

  it('lists the domains in their ASCII form, sorted and once each', () => {
    const manifest = aManifest((m) => {
      m.traits.push('external_service');
      m.allowedDomains = ['Bücher.de', 'api.acme.io', 'xn--bcher-kva.de', '*.Acme.io'];
    });
    expect(sensitiveRequests(manifest)).toEqual({
      traits: ['external_service'],
      domains: ['*.acme.io', 'api.acme.io', 'xn--bcher-kva.de'],
      requiresApproval: true,
    });
  });

  it('asks approval for http delivery: data leaves the mesh for the webhook host', () => {
    const manifest = aManifest(
      (m) => (m.delivery = { mode: 'http', webhookUrl: 'https://Hooks.Bücher.de/in' }),
    );
    expect(sensitiveRequests(manifest)).toEqual({
      traits: [],
      domains: [],
      webhookHost: 'hooks.xn--bcher-kva.de',
      requiresApproval: true,
    });
  });
});
