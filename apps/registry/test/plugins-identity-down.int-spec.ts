import { buckets, ErrorCode, subjects, VivifiedError } from '@vivified/contracts';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RegistryHarness } from './harness';
import { roles, startRegistry } from './harness';
import { aManifest, aPiiManifest, plain } from './manifests';

/** Without identity no client secret can be issued: the call that would activate a plugin changes nothing. */
describe('registry: identity unavailable', () => {
  let h: RegistryHarness;
  let operator: string;
  let admin: string;

  beforeAll(async () => {
    h = await startRegistry({ identity: false });
    operator = await h.userToken(roles.operator);
    admin = await h.userToken(roles.admin, '00000000-0000-4000-8000-0000000000ad');
    // without identity the key bucket appears only with the TestAuthority: wait until the sidecar has its key
    await waitFor(
      () =>
        h.call(subjects.registry.plugins.list, {}, operator).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, what: 'the registry to accept the test key' },
    );
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('refuses to activate a plugin with UNAVAILABLE and stores nothing', async () => {
    const error = await h
      .call(subjects.registry.plugins.register, { manifest: plain(aManifest('lonely')) }, operator)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(VivifiedError);
    expect((error as VivifiedError).code).toBe(ErrorCode.Unavailable);
    expect((error as VivifiedError).message).toContain(subjects.identity.pluginCredentials.issue);
    expect(await h.sql('SELECT id FROM registry.plugins')).toEqual([]);
    const kv = await h.nc.jetstream().views.kv(buckets.plugins.name, { bindOnly: true });
    expect(await kv.get('lonely')).toBeNull();
  });

  it('still takes a registration that waits for approval, and keeps it waiting when approval cannot issue', async () => {
    const pending = await h.call(
      subjects.registry.plugins.register,
      { manifest: plain(aPiiManifest('patient')) },
      operator,
    );
    expect(pending.status).toBe('pending_approval');

    const error = await h
      .call(subjects.registry.plugins.approve, { pluginId: 'patient' }, admin)
      .catch((caught: unknown) => caught);
    expect((error as VivifiedError).code).toBe(ErrorCode.Unavailable);
    expect((error as VivifiedError).message).toContain(subjects.identity.pluginCredentials.issue);
    expect((await h.call(subjects.registry.plugins.get, { pluginId: 'patient' }, operator)).status).toBe(
      'pending_approval',
    );
  });
});
