import { Inject, Injectable, Optional } from '@nestjs/common';
import { subjects } from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';

import type { StoredManifest } from './plugin-record';

/**
 * Issues and revokes a plugin's NATS user credentials (the registry's nats-credentials part). Without one, no
 * NATS credentials are issued and `natsCreds` is absent.
 */
export interface PluginNatsCredentials {
  /** The `.creds` text of a new user for the plugin, or undefined when none is issued (development mode). */
  issue(pluginId: string, manifest: StoredManifest): Promise<string | undefined>;
  /** Revokes every NATS user of the plugin. */
  revoke(pluginId: string): Promise<void>;
}

/** Injection token of the {@link PluginNatsCredentials}. */
export const PLUGIN_NATS_CREDENTIALS = Symbol('PLUGIN_NATS_CREDENTIALS');

/** A plugin's credentials, answered once. */
export interface IssuedCredentials {
  clientSecret: string;
  natsCreds?: string;
}

/** Client secrets at identity (with the registry's own service token) and NATS users. */
@Injectable()
export class PluginCredentialsClient {
  constructor(
    private readonly client: VivifiedClient,
    @Optional() @Inject(PLUGIN_NATS_CREDENTIALS) private readonly nats?: PluginNatsCredentials,
  ) {}

  /** A new client secret (replacing any earlier one) and NATS credentials; identity down: `UNAVAILABLE`. */
  async issue(pluginId: string, manifest: StoredManifest): Promise<IssuedCredentials> {
    const { clientSecret } = await this.client.request(subjects.identity.pluginCredentials.issue, {
      pluginId,
    });
    const natsCreds = await this.nats?.issue(pluginId, manifest);

    return { clientSecret, ...(natsCreds === undefined ? {} : { natsCreds }) };
  }

  /** New NATS user credentials only (renewal of a short-lived user JWT); undefined in development mode. */
  async renewNats(pluginId: string, manifest: StoredManifest): Promise<string | undefined> {
    return this.nats?.issue(pluginId, manifest);
  }

  /** Revokes the client secret and the NATS users; answers what could not be revoked. */
  async revoke(pluginId: string): Promise<{ clientSecret: boolean; nats: boolean }> {
    const [secret, nats] = await Promise.allSettled([
      this.client.request(subjects.identity.pluginCredentials.revoke, { pluginId }),
      this.nats ? this.nats.revoke(pluginId) : Promise.resolve(),
    ]);

    return { clientSecret: secret.status === 'fulfilled', nats: nats.status === 'fulfilled' };
  }
}
