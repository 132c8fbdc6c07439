import { invalidToken } from '@vivified/auth';
import type { BearerVerifier, VerifiedToken } from '@vivified/auth';
import { ErrorCode } from '@vivified/contracts';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';

import { verifyRequestBearer } from './request-bearer';

function countingVerifier(): BearerVerifier & { asked: string[] } {
  const asked: string[] = [];

  return {
    asked,
    verify: (token: string) => {
      asked.push(token);

      return token === 'good'
        ? Promise.resolve({ principal: { kind: 'user', id: 'u1', traits: [] } } as unknown as VerifiedToken)
        : Promise.reject(invalidToken('signature_invalid'));
    },
  };
}

const request = () => ({ headers: {} }) as unknown as FastifyRequest;

describe(verifyRequestBearer.name, () => {
  it('verifies a request bearer once, however often the request asks', async () => {
    const verifier = countingVerifier();
    const one = request();

    const first = await verifyRequestBearer(one, 'good', verifier);
    const again = await verifyRequestBearer(one, 'good', verifier);

    expect(again).toBe(first);
    expect(verifier.asked).toEqual(['good']);
  });

  it('verifies each request on its own, and another token of the same request anew', async () => {
    const verifier = countingVerifier();
    const one = request();

    await verifyRequestBearer(one, 'good', verifier);
    await verifyRequestBearer(request(), 'good', verifier);
    await expect(verifyRequestBearer(one, 'forged', verifier)).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });

    expect(verifier.asked).toEqual(['good', 'good', 'forged']);
  });

  it('gives every asker the same refusal', async () => {
    const verifier = countingVerifier();
    const one = request();

    await expect(verifyRequestBearer(one, 'forged', verifier)).rejects.toMatchObject({
      reason: 'signature_invalid',
    });
    await expect(verifyRequestBearer(one, 'forged', verifier)).rejects.toMatchObject({
      reason: 'signature_invalid',
    });
    expect(verifier.asked).toEqual(['forged']);
  });
});
