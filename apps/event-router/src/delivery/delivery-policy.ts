import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { PluginStatusEntry, StoredEventEnvelope } from '@vivified/contracts';
import type { KekProvider } from '@vivified/crypto';
import type { PolicyDecision } from '@vivified/policy-engine';
import { actionSpec } from '@vivified/policy-engine';
import { bundleVerificationKey, PolicyBundleStore } from '@vivified/policy-sidecar';
import { KEK_PROVIDER, NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

import { PluginDirectory } from '../plugins/plugin-directory';

/** The event-router as the principal of its deliveries. */
const ROUTER = { kind: 'service', id: 'event-router', traits: ['system_core'], status: 'active' } as const;
const DELIVER = 'events.deliver';

/**
 * The policy decision of one delivery (`events.deliver`): the router delivers from the source plugin to the target,
 * each with the traits the registry approved (live, from `vivified_plugins`), for the event's classification. PHI
 * goes only to a target with handles_phi + audit_required + encryption_required; PII to a target without the PII
 * traits is sanitized. Decided locally on the signed bundle from KV, as the sidecar decides.
 */
@Injectable()
export class DeliveryPolicy implements OnModuleInit, OnApplicationShutdown {
  private bundles: PolicyBundleStore | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(KEK_PROVIDER) private readonly kek: KekProvider,
    private readonly directory: PluginDirectory,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.bundles = new PolicyBundleStore(this.nc, {
      publicKey: await bundleVerificationKey(this.kek),
      logger: this.log,
    });
    await this.bundles.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bundles?.stop();
  }

  /** Decides whether `envelope` may reach `target`. */
  decide(envelope: StoredEventEnvelope, target: PluginStatusEntry): PolicyDecision {
    if (!this.bundles) {
      throw new Error('delivery policy not started');
    }
    const sourceId = envelope.source.pluginId;
    const sourceEntry = this.directory.get(sourceId);

    return this.bundles.engine.decide({
      action: DELIVER,
      principal: ROUTER,
      resource: { type: actionSpec(DELIVER)?.resource ?? '' },
      classification: envelope.classification,
      // a core service as source (`service:<name>`) carries system_core: the engine's core_source rule
      source: sourceEntry
        ? { pluginId: sourceId, traits: sourceEntry.traits }
        : { pluginId: sourceId, traits: sourceId.startsWith('service:') ? ['system_core'] : [] },
      target: { pluginId: target.id, traits: target.traits },
      now: Date.now(),
    });
  }
}
