import type { Access, Classification } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { GuardInput, Principal } from '@vivified/nats-transport';
import { headers as natsHeaders } from 'nats';
import { describe, expect, it } from 'vitest';

import { AuthGuard, authenticateAuthorization, bearerToken, checkAccess, parseBearer } from './auth-guard';
import { invalidToken } from './errors';
import type { BearerVerifier, VerifiedToken } from './token-verifier';

const TOKEN = 'aaa.bbb.ccc';

function principal(overrides: Partial<Principal> = {}): Principal {
  return { kind: 'user', id: 'u-1', traits: [], roles: [], ...overrides };
}

/** A verifier that knows one token, with a record of what it was asked. */
function verifierFor(who: Principal): BearerVerifier & { asked: string[] } {
  const asked: string[] = [];

  return {
    asked,
    verify: (token: string) => {
      asked.push(token);

      return token === TOKEN
        ? Promise.resolve({ principal: who, claims: {} } as unknown as VerifiedToken)
        : Promise.reject(invalidToken('signature_invalid'));
    },
  };
}

function input(
  access: Access,
  options: { authorization?: string; classification?: Classification[]; payload?: unknown } = {},
): GuardInput {
  const hdrs = natsHeaders();
  if (options.authorization !== undefined) {
    hdrs.set('Authorization', options.authorization);
  }

  return {
    subject: 'test.thing.read',
    headers: hdrs,
    access,
    classification: options.classification ?? [],
    payload: options.payload ?? { id: 1 },
  };
}

async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

const READ: Access = { action: 'test.thing.read' };
const PHI_TRAITS = ['handles_phi', 'audit_required', 'encryption_required'];

describe('bearer tokens', () => {
  it('reads the token of a Bearer header, scheme in any case', () => {
    expect(parseBearer(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(parseBearer(`bearer ${TOKEN}`)).toBe(TOKEN);
    expect(parseBearer(`BEARER ${TOKEN}`)).toBe(TOKEN);
  });

  it('answers undefined for no header, another scheme or an empty token', () => {
    expect(parseBearer(undefined)).toBeUndefined();
    expect(parseBearer('')).toBeUndefined();
    expect(parseBearer('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(parseBearer('Bearer ')).toBeUndefined();
    expect(parseBearer(`Bearer ${TOKEN} extra`)).toBeUndefined();
  });

  it('finds the Authorization header of a NATS message whatever its case', () => {
    const hdrs = natsHeaders();
    hdrs.set('authorization', `Bearer ${TOKEN}`);

    expect(bearerToken(hdrs)).toBe(TOKEN);
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(natsHeaders())).toBeUndefined();
  });
});

describe(authenticateAuthorization.name, () => {
  it('verifies the bearer token of an HTTP header value', async () => {
    const who = principal();

    await expect(authenticateAuthorization(`Bearer ${TOKEN}`, verifierFor(who))).resolves.toMatchObject({
      principal: who,
    });
  });

  it('refuses a missing header with token_missing', async () => {
    const error = await rejection(authenticateAuthorization(undefined, verifierFor(principal())));

    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.reason).toBe('token_missing');
  });
});

describe(AuthGuard.name, () => {
  it('refuses a request without a token before verifying anything', async () => {
    const verifier = verifierFor(principal());
    const guard = new AuthGuard({ verifier });

    const error = await rejection(guard.authorize(input(READ)));

    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.reason).toBe('token_missing');
    expect(verifier.asked).toEqual([]);
  });

  it("passes on the verifier's refusal", async () => {
    const guard = new AuthGuard({ verifier: verifierFor(principal()) });

    const error = await rejection(guard.authorize(input(READ, { authorization: 'Bearer x.y.z' })));

    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.reason).toBe('signature_invalid');
  });

  it('answers the principal and the payload unchanged', async () => {
    const who = principal({ traits: ['user_manager'] });
    const guard = new AuthGuard({ verifier: verifierFor(who) });
    const payload = { id: 7, name: 'x' };

    const result = await guard.authorize(input(READ, { authorization: `Bearer ${TOKEN}`, payload }));

    expect(result.principal).toBe(who);
    expect(result.payload).toBe(payload);
  });

  it('refuses a kind of principal the contract does not allow', async () => {
    const guard = new AuthGuard({ verifier: verifierFor(principal({ kind: 'plugin', id: 'acme' })) });

    const error = await rejection(
      guard.authorize(
        input({ action: 'x', kinds: ['user', 'service'] }, { authorization: `Bearer ${TOKEN}` }),
      ),
    );

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.message).toBe('access denied');
    expect(error.reason).toBe('principal_kind_not_allowed');
  });

  it('allows every kind when the contract names none', async () => {
    for (const kind of ['user', 'plugin', 'service'] as const) {
      const guard = new AuthGuard({ verifier: verifierFor(principal({ kind })) });

      await expect(guard.authorize(input(READ, { authorization: `Bearer ${TOKEN}` }))).resolves.toMatchObject(
        { principal: { kind } },
      );
    }
  });
});

describe(checkAccess.name, () => {
  function denial(fn: () => void): string | undefined {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(VivifiedError);
      expect((error as VivifiedError).code).toBe(ErrorCode.PolicyDenied);

      return (error as VivifiedError).reason;
    }

    return undefined;
  }

  it('needs one of anyTrait', () => {
    const access: Access = { action: 'identity.user.create', anyTrait: ['user_manager', 'security_admin'] };

    expect(denial(() => checkAccess(principal({ traits: ['viewer'] }), access))).toBe('trait_missing');
    expect(denial(() => checkAccess(principal({ traits: ['security_admin'] }), access))).toBeUndefined();
  });

  it('passes any trait set when anyTrait is empty or absent', () => {
    expect(denial(() => checkAccess(principal(), { action: 'x', anyTrait: [] }))).toBeUndefined();
    expect(denial(() => checkAccess(principal(), { action: 'x' }))).toBeUndefined();
  });

  it('needs handles_phi, audit_required and encryption_required for PHI', () => {
    const access: Access = { action: 'x', classification: ['phi'] };

    expect(denial(() => checkAccess(principal({ traits: PHI_TRAITS }), access))).toBeUndefined();
    for (const missing of PHI_TRAITS) {
      const traits = PHI_TRAITS.filter((trait) => trait !== missing);
      expect(denial(() => checkAccess(principal({ traits }), access))).toBe('phi_trait_missing');
    }
  });

  it('does not treat admin as a PHI key', () => {
    const admin = principal({ roles: ['admin'], traits: ['admin', 'user_manager', 'security_admin'] });

    expect(denial(() => checkAccess(admin, { action: 'x', classification: ['phi'] }))).toBe(
      'phi_trait_missing',
    );
  });

  it('needs handles_pii and audit_required for PII', () => {
    const access: Access = { action: 'x', classification: ['pii'] };

    expect(denial(() => checkAccess(principal({ traits: ['handles_pii'] }), access))).toBe(
      'pii_trait_missing',
    );
    expect(
      denial(() => checkAccess(principal({ traits: ['handles_pii', 'audit_required'] }), access)),
    ).toBeUndefined();
  });

  it('needs handles_confidential for confidential data', () => {
    const access: Access = { action: 'x', classification: ['confidential'] };

    expect(denial(() => checkAccess(principal(), access))).toBe('confidential_trait_missing');
    expect(
      denial(() => checkAccess(principal({ traits: ['handles_confidential'] }), access)),
    ).toBeUndefined();
  });

  it('applies the rules to the classification the caller declared too', () => {
    expect(denial(() => checkAccess(principal(), READ, ['phi']))).toBe('phi_trait_missing');
    expect(denial(() => checkAccess(principal(), READ, ['public', 'internal']))).toBeUndefined();
  });

  it('lets public and internal data through without traits', () => {
    expect(
      denial(() => checkAccess(principal(), { action: 'x', classification: ['public', 'internal'] })),
    ).toBeUndefined();
  });

  it('checks kinds before traits', () => {
    const access: Access = { action: 'x', kinds: ['service'], anyTrait: ['user_manager'] };

    expect(denial(() => checkAccess(principal({ kind: 'user' }), access))).toBe('principal_kind_not_allowed');
  });
});
