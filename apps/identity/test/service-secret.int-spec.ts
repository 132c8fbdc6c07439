import { subjects } from '@vivified/contracts';
import { StaticKekProvider } from '@vivified/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';

describe('service secret without VIVIFIED_SERVICE_SECRET', () => {
  let identity: IdentityHarness;

  beforeAll(async () => {
    // empty counts as unset: the core services then share a secret derived from the KEK they all hold
    identity = await startIdentity({ VIVIFIED_SERVICE_SECRET: '' });
  });

  afterAll(async () => {
    await identity?.stop();
  });

  it('issues service tokens for the secret derived from the KEK, and only for it', async () => {
    const kek = new StaticKekProvider(identity.env['VIVIFIED_KEK']);
    const derived = Buffer.from(await kek.hashKey('vivified.service-secret')).toString('base64url');

    const token = await identity.client.request(subjects.identity.tokens.service, {
      service: 'registry',
      secret: derived,
    });
    expect(token.accessToken).toEqual(expect.any(String));
    await expect(
      identity.client.request(subjects.identity.tokens.service, {
        service: 'registry',
        secret: `${derived}x`,
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
