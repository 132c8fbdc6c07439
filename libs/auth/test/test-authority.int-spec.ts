import { connectNats } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, TestAuthority, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JwksKeyStore, TokenVerifier } from '../src';

describe('TestAuthority tokens as every service sees them', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNatsServer();
    ({ nc } = await connectNats({ servers: [nats.url], name: 'test-authority' }));
  });

  afterAll(async () => {
    await nc?.drain();
    await nats?.stop();
  });

  it('publishes a key the JWKS store learns, and signs tokens the verifier accepts', async () => {
    const authority = await TestAuthority.create(nc);
    const store = new JwksKeyStore(nc);
    await store.start();
    const verifier = new TokenVerifier({ keys: store });
    const token = await authority.token({ kind: 'plugin', id: 'acme-crm', traits: ['handles_pii'] });

    const verified = await waitFor(() => verifier.verify(token).catch(() => undefined), { what: 'the key' });
    expect(verified.principal).toMatchObject({ kind: 'plugin', id: 'acme-crm', traits: ['handles_pii'] });
    await store.stop();
  });
});
