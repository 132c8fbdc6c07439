import { auditContracts } from './audit/audit.rpc';
import { configContracts } from './config/config.rpc';
import { eventsContracts } from './events/events.rpc';
import { accountsContracts, mfaCoverageContracts } from './identity/accounts.rpc';
import { tokensContracts } from './identity/tokens.rpc';
import { webauthnContracts } from './identity/webauthn.rpc';
import { lanesContracts } from './lanes/lanes.rpc';
import { InfoReply, InfoRequest } from './info/info.rpc';
import { policyContracts } from './policy/policy.rpc';
import { registryContracts } from './registry/registry.rpc';
import type { RpcContract } from './rpc';
import { defineRpc, PUBLIC } from './rpc';
import { subjects } from './subjects';

const infoContract = <S extends string>(subject: S, service: string) =>
  defineRpc({
    subject,
    request: InfoRequest,
    reply: InfoReply,
    access: PUBLIC,
    summary: `Name, version and uptime of the ${service} service.`,
    timeoutMs: 2_000,
  });

/** Every request/reply contract, keyed by its subject. */
export const rpcContracts = {
  [subjects.identity.info]: infoContract(subjects.identity.info, 'identity'),
  [subjects.policy.info]: infoContract(subjects.policy.info, 'policy'),
  [subjects.registry.info]: infoContract(subjects.registry.info, 'registry'),
  [subjects.audit.info]: infoContract(subjects.audit.info, 'audit'),
  [subjects.gateway.info]: infoContract(subjects.gateway.info, 'gateway'),
  [subjects.eventRouter.info]: infoContract(subjects.eventRouter.info, 'event-router'),
  ...accountsContracts,
  ...tokensContracts,
  ...webauthnContracts,
  ...policyContracts,
  ...eventsContracts,
  ...auditContracts,
  ...registryContracts,
  ...lanesContracts,
  ...configContracts,
  ...mfaCoverageContracts,
} as const;

/** Subject → `{ request, reply }` types, for the typed client and handlers. */
export type RpcMap = {
  [S in keyof typeof rpcContracts]: (typeof rpcContracts)[S] extends RpcContract<infer Req, infer Rep>
    ? { request: Req; reply: Rep }
    : never;
};

/** A subject with a request/reply contract. */
export type RpcSubject = keyof RpcMap;

/** The request type of a subject. */
export type RpcRequest<S extends RpcSubject> = RpcMap[S]['request'];

/** The reply type of a subject. */
export type RpcReply<S extends RpcSubject> = RpcMap[S]['reply'];

/** The contract of a subject, or undefined when it has none. */
export function rpcContract(subject: string): RpcContract | undefined {
  return (rpcContracts as Record<string, RpcContract>)[subject];
}
