import { subjects } from '@vivified/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IdentityHarness } from './harness';
import { startIdentity } from './harness';

describe('identity service', () => {
  let identity: IdentityHarness;

  beforeAll(async () => {
    identity = await startIdentity();
  });

  afterAll(async () => {
    await identity?.stop();
  });

  it('starts on its own NATS and database and answers info', async () => {
    const info = await identity.client.request(subjects.identity.info, {});

    expect(info.name).toBe('identity');
    expect(info.version).toBe('0.0.0-test');
  });
});
