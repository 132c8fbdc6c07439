import type { PluginManifest } from '@vivified/contracts';

/** A manifest that passes every rule and asks for nothing sensitive; `patch` edits it in place. */
export function aManifest(patch?: (manifest: PluginManifest) => void): PluginManifest {
  const manifest: PluginManifest = {
    id: 'acme-notifier',
    name: 'Acme Notifier',
    version: '1.2.3',
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
    healthCheck: { type: 'nats', intervalSeconds: 30 },
    rateLimits: { send: 600 },
  };
  patch?.(manifest);

  return manifest;
}

/** A PHI plugin that meets every PHI requirement; `patch` edits it in place. */
export function aPhiManifest(patch?: (manifest: PluginManifest) => void): PluginManifest {
  return aManifest((manifest) => {
    manifest.id = 'chart-reader';
    manifest.traits = ['handles_phi', 'audit_required', 'encryption_required', 'hipaa_compliant'];
    manifest.security.dataClassification = ['phi', 'internal'];
    manifest.compliance = {
      hipaaControls: ['164.312(a)(1)', '164.312(b)'],
      auditLevel: 'detailed',
      dataRetentionDays: 2555,
    };
    manifest.operations = [
      {
        name: 'get_chart',
        description: 'Read a chart',
        requiredTraits: ['handles_phi'],
        classification: ['phi'],
      },
    ];
    patch?.(manifest);
  });
}

/** Sets a property to a value its type does not allow (schema tests). */
export function setRaw(target: object, key: string, value: unknown): void {
  (target as Record<string, unknown>)[key] = value;
}

/** Removes a property (schema tests). */
export function remove(target: object, key: string): void {
  delete (target as Record<string, unknown>)[key];
}
