import type { PasskeyAuthenticationCredential } from '@vivified/contracts';
import { ErrorCode } from '@vivified/contracts';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { describe, expect, it } from 'vitest';

import type { IdentityConfig } from '../config';
import type { TokenIssuer, UserDirectory } from '../identity.ports';
import type { WebauthnOptions } from './webauthn.options';
import type { StoredChallenge, WebauthnRepository } from './webauthn.repository';
import { decoyCredentialId, expectedOrigins, userHandleOf, WebauthnService } from './webauthn.service';

const MINUTE = 60_000;

/** A collaborator whose every unexpected call fails the test. */
function strict<T extends object>(name: string, implemented: Partial<T>): T {
  return new Proxy(implemented, {
    get(target, property) {
      if (property in target) {
        return target[property as keyof typeof target];
      }
      if (property === 'then') {
        return undefined;
      }
      throw new Error(`unexpected call ${name}.${String(property)}`);
    },
  }) as T;
}

function newTestService() {
  let now = new Date(Date.UTC(2025, 0, 1));
  const challenges = new Map<string, StoredChallenge>();
  const audits: AuditInput[] = [];
  const options: WebauthnOptions = { challengeTtlMs: 5 * MINUTE, now: () => now };
  const repository = strict<WebauthnRepository>('repository', {
    saveChallenge: (challenge: StoredChallenge) => {
      challenges.set(challenge.id, challenge);

      return Promise.resolve();
    },
    consumeChallenge: (id: string, kind: StoredChallenge['kind']) => {
      const challenge = challenges.get(id);
      challenges.delete(id);

      return Promise.resolve(challenge?.kind === kind ? challenge : undefined);
    },
    findByCredentialId: () => Promise.resolve(undefined),
  });
  const audit = strict<AuditEmitter>('audit', {
    emit: (input: AuditInput) => {
      audits.push(input);

      return Promise.resolve({} as Awaited<ReturnType<AuditEmitter['emit']>>);
    },
  });
  const config = {
    webauthnRpId: 'localhost',
    webauthnRpName: 'Vivified',
    webauthnOrigins: ['http://localhost:8080/'],
  } as unknown as IdentityConfig;
  const sut = new WebauthnService(
    repository,
    config,
    audit,
    strict<UserDirectory>('users', {}),
    strict<TokenIssuer>('tokens', {}),
    options,
  );

  return {
    sut,
    mocks: { challenges, audits },
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

const credential: PasskeyAuthenticationCredential = {
  id: 'AAAA',
  rawId: 'AAAA',
  type: 'public-key',
  clientExtensionResults: {},
  response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' },
};

describe(WebauthnService.name, () => {
  it('stores a usernameless login challenge for the configured lifetime', async () => {
    const { sut, mocks } = newTestService();

    const { ceremonyId, publicKey } = await sut.loginOptions();

    expect(publicKey).toMatchObject({ rpId: 'localhost', userVerification: 'required', timeout: 5 * MINUTE });
    expect(publicKey.allowCredentials ?? []).toEqual([]);
    const stored = mocks.challenges.get(ceremonyId);
    expect(stored).toMatchObject({
      kind: 'authentication',
      challenge: publicKey.challenge,
      userBound: false,
    });
    expect(stored?.expiresAt).toEqual(new Date(Date.UTC(2025, 0, 1) + 5 * MINUTE));
  });

  it('refuses a challenge once its lifetime is over, with the same answer as any failure', async () => {
    const { sut, mocks, advance } = newTestService();
    const fresh = await sut.loginOptions();
    const stale = await sut.loginOptions();

    advance(5 * MINUTE - 1);
    await expect(sut.login(fresh.ceremonyId, credential, {})).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      message: 'invalid credentials',
    });
    advance(1);
    await expect(sut.login(stale.ceremonyId, credential, { ip: '192.0.2.1' })).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      message: 'invalid credentials',
    });

    expect(mocks.audits.map((input) => input.details?.reason)).toEqual([
      'unknown_credential',
      'ceremony_expired',
    ]);
    expect(mocks.audits[1]).toMatchObject({
      category: 'auth',
      action: 'webauthn.login',
      outcome: 'failure',
      details: { ip: '192.0.2.1' },
    });
    expect(mocks.challenges.size).toBe(0);
  });

  it('answers a ceremony id once', async () => {
    const { sut, mocks } = newTestService();
    const { ceremonyId } = await sut.loginOptions();

    await expect(sut.login(ceremonyId, credential, {})).rejects.toThrow('invalid credentials');
    await expect(sut.login(ceremonyId, credential, {})).rejects.toThrow('invalid credentials');

    expect(mocks.audits.map((input) => input.details?.reason)).toEqual([
      'unknown_credential',
      'ceremony_unknown',
    ]);
  });
});

describe('userHandleOf', () => {
  it('is the 16 bytes of the user id, base64url', () => {
    const handle = userHandleOf('0f8fad5b-d9cb-469f-a165-70867728950e');

    expect(Buffer.from(handle, 'base64url').toString('hex')).toBe('0f8fad5bd9cb469fa16570867728950e');
  });
});

describe('decoyCredentialId', () => {
  it('is stable for a key and username and differs otherwise', () => {
    const key = Buffer.alloc(32, 1);

    expect(decoyCredentialId(key, 'nobody')).toBe(decoyCredentialId(key, 'nobody'));
    expect(decoyCredentialId(key, 'nobody')).not.toBe(decoyCredentialId(key, 'somebody'));
    expect(decoyCredentialId(Buffer.alloc(32, 2), 'nobody')).not.toBe(decoyCredentialId(key, 'nobody'));
    expect(decoyCredentialId(key, 'nobody')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('expectedOrigins', () => {
  it('keeps scheme, host and port only, once each', () => {
    expect(
      expectedOrigins(['http://localhost:8080/', 'http://localhost:8080', 'https://console.example.org/x']),
    ).toEqual(['http://localhost:8080', 'https://console.example.org']);
  });
});
