import type { ConfigField } from '@vivified/service-kit';

import { parsePluginNetworkRanges, PLUGIN_NETWORK_RANGES_ENV } from './address-policy';

/**
 * `VIVIFIED_PLUGIN_NETWORK_RANGES`: comma-separated CIDR ranges where plugin webhooks and endpoints may live
 * although private (`10.0.0.0/8` for a compose network). Core→plugin traffic only; empty by default. Parsed into
 * canonical CIDRs; a range wider than /8 (/7 for IPv6) or in loopback, link-local, unspecified, multicast or
 * broadcast space fails the config at start.
 */
export function pluginNetworkRangesField(): ConfigField<string[]> {
  return {
    env: PLUGIN_NETWORK_RANGES_ENV,
    kind: 'string',
    secret: false,
    description:
      'Comma-separated CIDR ranges where plugin webhooks/endpoints may live although private (core→plugin traffic only; never the proxy lane); metadata, loopback and link-local stay refused',
    read(raw) {
      try {
        return { ok: true, value: parsePluginNetworkRanges(raw) };
      } catch (error) {
        return { ok: false, message: (error as Error).message.replace(`${PLUGIN_NETWORK_RANGES_ENV}: `, '') };
      }
    },
  };
}
