import type { PasskeyAuthenticationCredential } from '@vivified/contracts';
import { ErrorCode } from '@vivified/contracts';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { describe, expect, it } from 'vitest';

import type { IdentityConfig } from '../config';
import type { TokenIssuer, UserDirectory } from '../identity.ports';
import type { WebauthnOptions } from './webauthn.options';
import type { StoredChallenge, WebauthnRepository } from './webauthn.repository';
import { CeremonyChallenges } from './ceremony-challenges';
import { PasskeyLoginService } from './passkey-login.service';

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
  const sut = new PasskeyLoginService(
    repository,
    new CeremonyChallenges(repository, options),
    config,
    audit,
    strict<UserDirectory>('users', {}),
    strict<TokenIssuer>('tokens', {}),
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

describe(PasskeyLoginService.name, () => {
  it('stores a usernameless login challenge for the configured lifetime', async () => {
    const { sut, mocks } = newTestService();

    const { ceremonyId, publicKey } = await sut.options();

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
    const fresh = await sut.options();
    const stale = await sut.options();

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
    const { ceremonyId } = await sut.options();

    await expect(sut.login(ceremonyId, credential, {})).rejects.toThrow('invalid credentials');
    await expect(sut.login(ceremonyId, credential, {})).rejects.toThrow('invalid credentials');

    expect(mocks.audits.map((input) => input.details?.reason)).toEqual([
      'unknown_credential',
      'ceremony_unknown',
    ]);
  });
});
