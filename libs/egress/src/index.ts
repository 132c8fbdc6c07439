export type { AddressPolicyOptions, Range } from './address-policy';
export {
  AddressPolicy,
  MIN_PLUGIN_PREFIX,
  parsePluginNetworkRanges,
  parseRanges,
  PLUGIN_NETWORK_RANGES_ENV,
  pluginRangeProblem,
  TEST_ALLOW_RANGES_ENV,
  testAllowance,
} from './address-policy';
export { pluginNetworkRangesField } from './config';
export type { CheckedAddress, ConnectLookup, EgressGuardOptions } from './egress-guard';
export { EgressGuard, readCapped, typedCause } from './egress-guard';
export { egressError, isTimeout } from './egress-error';
export type { EgressErrorWords } from './egress-error';
export type { HostLookup } from './resolver';
export { EgressResolver, fixedLookup, systemLookup } from './resolver';
