import type { PluginManifest } from '@vivified/contracts';

/** A manifest that passes every rule and asks for nothing sensitive; `patch` edits it in place. */
export function aManifest(id: string, patch?: (manifest: PluginManifest) => void): PluginManifest {
  const manifest: PluginManifest = {
    id,
    name: `Plugin ${id}`,
    version: '1.0.0',
    description: 'Sends notifications',
    contracts: ['CommunicationPlugin'],
    traits: ['communication_plugin', 'handles_notifications'],
    dependencies: [],
    events: { publishes: ['NotificationSent'], subscribes: ['NotificationRequested@1.0'] },
    operations: [
      { name: 'send', description: 'Send a notification', requiredTraits: [], classification: ['internal'] },
    ],
    allowedDomains: [],
    delivery: { mode: 'nats' },
    security: { authenticationRequired: true, dataClassification: ['internal'] },
    compliance: { hipaaControls: [], auditLevel: 'standard' },
    resources: { memoryMb: 256, cpu: 0.5 },
    healthCheck: { type: 'nats', intervalSeconds: 5 },
    rateLimits: { send: 600 },
  };
  patch?.(manifest);

  return manifest;
}

/** A manifest asking for PII: registration waits for an approval. */
export function aPiiManifest(id: string, patch?: (manifest: PluginManifest) => void): PluginManifest {
  return aManifest(id, (manifest) => {
    manifest.traits = ['handles_pii', 'audit_required', 'communication_plugin'];
    manifest.security.dataClassification = ['pii', 'internal'];
    patch?.(manifest);
  });
}

/** Makes a plain JSON object of a manifest, as a request carries it. */
export const plain = (manifest: PluginManifest): Record<string, unknown> =>
  JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
