import { subjects } from '@vivified/contracts';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SigningKeysService } from '../src/tokens/signing-keys.service';
import type { TokensHarness } from './tokens-fixtures';
import { startTokens } from './tokens-fixtures';

describe('identity tokens across replicas', () => {
  let identity: TokensHarness;

  beforeAll(async () => {
    identity = await startTokens({ replicas: 2 });
  });

  afterAll(async () => {
    await identity?.stop();
  });

  it('creates one signing key when replicas start together, and both sign with it', async () => {
    const rows = await identity.sql<{ kid: string; status: string }>('SELECT kid, status FROM signing_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('current');
    expect((await identity.bucketKeys()).map((key) => key.kid)).toEqual([rows[0]?.kid]);

    const user = await identity.createUser(['viewer']);
    for (const replica of identity.replicas) {
      const pair = await replica.issuer.startSession(user, { method: 'password' });
      expect(decodeProtectedHeader(pair.accessToken).kid).toBe(rows[0]?.kid);
      await expect(identity.verifyWithBucket(pair.accessToken)).resolves.toBeDefined();
    }
  });

  it('continues a session on the other replica, and detects reuse there', async () => {
    const [a, b] = identity.replicas;
    const user = await identity.createUser(['viewer']);
    const pair = await a.issuer.startSession(user, { method: 'password' });

    // both replicas serve the subject in one queue group: a run of refreshes lands on both
    let refreshToken = pair.refreshToken;
    for (let i = 0; i < 6; i += 1) {
      ({ refreshToken } = await identity.client.request(subjects.identity.auth.refresh, { refreshToken }));
    }
    await expect(
      identity.client.request(subjects.identity.auth.refresh, { refreshToken: pair.refreshToken }),
    ).rejects.toMatchObject({ reason: 'refresh_token_reused' });
    await expect(b.issuer.revokeUserSessions(user.id, 'test')).resolves.toBe(0);
  });

  it('signs with the new key on every replica after one of them rotates', async () => {
    const [a, b] = identity.replicas;
    const admin = await identity.createUser(['security_admin']);
    const { accessToken } = await a.issuer.startSession(admin, { method: 'password' });
    const rotated = await identity.client.request(subjects.identity.keys.rotate, {}, { token: accessToken });

    // the other replica re-reads the current key within 30 s; a maintenance pass publishes the same set
    await b.get(SigningKeysService).maintain();
    const keys = await identity.bucketKeys();
    expect(keys.map((key) => key.kid).sort()).toEqual([rotated.kid, rotated.previousKid].sort());
    const user = await identity.createUser(['viewer']);
    // until it re-reads the current key (30 s), the replica that did not rotate may still sign with the old one
    for (const replica of [a, b]) {
      const pair = await replica.issuer.startSession(user, { method: 'password' });
      expect([rotated.kid, rotated.previousKid]).toContain(decodeProtectedHeader(pair.accessToken).kid);
      await expect(identity.verifyWithBucket(pair.accessToken)).resolves.toBeDefined();
    }
    identity.clock.advance(31_000);
    for (const replica of [a, b]) {
      const pair = await replica.issuer.startSession(user, { method: 'password' });
      expect(decodeProtectedHeader(pair.accessToken).kid).toBe(rotated.kid);
    }
  });
});
