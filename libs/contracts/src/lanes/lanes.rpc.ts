import { defineRpc, PUBLIC } from '../rpc';
import { subjects } from '../subjects';
import { CallKeyReply, CallKeyRequest } from './call-token';
import { ProxyRequest, ProxyResponse } from './proxy';

/** Contracts of the gateway's lanes with a fixed subject (the operator lane's wildcard has none). */
export const lanesContracts = {
  [subjects.gateway.callKey]: defineRpc({
    subject: subjects.gateway.callKey,
    request: CallKeyRequest,
    reply: CallKeyReply,
    access: PUBLIC,
    summary: 'The public keys that verify the call tokens of the operator lane (JWKS).',
    timeoutMs: 2_000,
  }),
  [subjects.proxy.request]: defineRpc({
    subject: subjects.proxy.request,
    request: ProxyRequest,
    reply: ProxyResponse,
    access: { action: 'proxy.request', kinds: ['plugin'] },
    summary: 'Proxy-lane egress to one of the caller’s approved domains, with SSRF defences.',
    timeoutMs: 30_000,
  }),
} as const;
