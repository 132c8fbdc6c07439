/**
 * Default ports of the platform (ARCHITECTURE §9, a contract). Each is overridable by its environment
 * variable; ops ports serve `/health` and `/metrics`.
 */
import type { ServiceName } from './subjects';

/** Default ops port of each service. */
export const defaultOpsPorts: Readonly<Record<ServiceName, number>> = {
  identity: 9101,
  policy: 9102,
  registry: 9103,
  audit: 9104,
  'event-router': 9105,
  gateway: 9106,
};

/** The ops-port variable of a service: `VIVIFIED_EVENT_ROUTER_OPS_PORT` for `event-router`. */
export function opsPortEnv(service: ServiceName): string {
  return `VIVIFIED_${service.toUpperCase().replace(/-/g, '_')}_OPS_PORT`;
}
