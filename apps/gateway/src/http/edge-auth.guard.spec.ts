import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { invalidToken } from '@vivified/auth';
import type { BearerVerifier, VerifiedToken } from '@vivified/auth';
import { ErrorCode } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { EdgeAuthGuard, ROUTE_AUTH, ROUTE_CREDENTIAL_HEADERS } from './edge-auth.guard';

const verifier: BearerVerifier = {
  verify: (token: string) =>
    token === 'good'
      ? Promise.resolve({ principal: { kind: 'user', id: 'u1', traits: [] } } as unknown as VerifiedToken)
      : Promise.reject(invalidToken('signature_invalid')),
};

function contextFor(
  auth: boolean | undefined,
  headers: Record<string, string>,
  type = 'http',
): ExecutionContext {
  const handler = () => undefined;
  if (auth !== undefined) {
    Reflect.defineMetadata(ROUTE_AUTH, auth, handler);
  }

  return {
    getType: () => type,
    getHandler: () => handler,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => ({ headers, ip: '127.0.0.1' }) }),
  } as unknown as ExecutionContext;
}

describe(EdgeAuthGuard.name, () => {
  const guard = new EdgeAuthGuard(new Reflector(), verifier);

  it('refuses a route that needs credentials without any, before anything else runs', async () => {
    await expect(guard.canActivate(contextFor(true, {}))).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'token_missing',
    });
  });

  it('refuses a bearer token that does not verify', async () => {
    await expect(
      guard.canActivate(contextFor(true, { authorization: 'Bearer forged' })),
    ).rejects.toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'signature_invalid' });
  });

  it('lets a verified bearer token and an API key (checked by identity) through', async () => {
    await expect(guard.canActivate(contextFor(true, { authorization: 'Bearer good' }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor(true, { 'x-api-key': 'vk_abc' }))).resolves.toBe(true);
  });

  it('serves public routes without credentials and needs them where a route says nothing', async () => {
    await expect(guard.canActivate(contextFor(false, {}))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor(undefined, {}))).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });

  it('leaves NATS handlers to the policy sidecar', async () => {
    await expect(guard.canActivate(contextFor(true, {}, 'rpc'))).resolves.toBe(true);
  });
});

describe('credential headers a route names', () => {
  it('passes a request carrying one to the service that checks it, and only on that route', async () => {
    const guard = new EdgeAuthGuard(new Reflector(), verifier);
    const withHeader = contextFor(true, { 'x-registration-token': 'vrt_1' });
    Reflect.defineMetadata(ROUTE_CREDENTIAL_HEADERS, ['x-registration-token'], withHeader.getHandler());

    await expect(guard.canActivate(withHeader)).resolves.toBe(true);
    await expect(
      guard.canActivate(contextFor(true, { 'x-registration-token': 'vrt_1' })),
    ).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });
});
