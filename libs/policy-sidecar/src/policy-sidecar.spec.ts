import type { BearerVerifier, VerifiedToken } from '@vivified/auth';
import { invalidToken } from '@vivified/auth';
import type { Access, Classification, PluginStatus, PluginStatusEntry } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { GuardInput, Principal } from '@vivified/nats-transport';
import { CachedPolicyEngine, emptyBundle, piiRedactFields } from '@vivified/policy-engine';
import type { PolicyBundle } from '@vivified/policy-engine';
import { headers } from 'nats';
import { beforeEach, describe, expect, it } from 'vitest';

import type { PolicySidecarMetrics } from './metrics';
import type { DecisionAuditInput, DecisionAuditSink } from './policy-sidecar';
import { PolicySidecar } from './policy-sidecar';
import type { SessionRevocationLookup, UserTokenStanding } from './session-revocation-store';

const USER_ID = '3f1c8a52-9d0e-4f57-8b43-2f5d3f0a9c11';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PHI_TRAITS = ['handles_phi', 'audit_required', 'encryption_required'];

/** Tokens are their principal, JSON-encoded: the verifier is not what these tests are about. */
class FakeVerifier implements BearerVerifier {
  verify(token: string): Promise<VerifiedToken> {
    if (token === 'forged') {
      return Promise.reject(invalidToken('signature_invalid'));
    }
    const { iat, ...principal } = JSON.parse(Buffer.from(token, 'base64url').toString()) as Principal & {
      iat: number;
    };

    return Promise.resolve({ principal, claims: { iat } as VerifiedToken['claims'] });
  }
}

/** Tokens of these tests are issued at this second unless a test says otherwise. */
const ISSUED_AT = 1_900_000_000;

function tokenOf(kind: Principal['kind'], id: string, traits: string[] = [], iat = ISSUED_AT): string {
  return Buffer.from(JSON.stringify({ kind, id, traits, roles: [], iat })).toString('base64url');
}

/** The `vivified_sessions` entries, as the store holds them (its `standing` rules). */
class Sessions implements SessionRevocationLookup {
  readonly entries = new Map<string, { active: boolean; validAfter: number }>();
  readonly asked: string[] = [];
  unavailable = false;
  standing(userId: string, issuedAt: number): UserTokenStanding {
    this.asked.push(userId);
    if (this.unavailable) {
      return 'unavailable';
    }
    const entry = this.entries.get(userId);
    if (!entry) {
      return 'valid';
    }
    if (!entry.active) {
      return 'user_inactive';
    }

    return issuedAt < entry.validAfter ? 'revoked' : 'valid';
  }
}

class RecordingAudit implements DecisionAuditSink {
  readonly records: Array<DecisionAuditInput & { id: string }> = [];
  failWith: Error | undefined;

  emit(input: DecisionAuditInput): Promise<{ id: string }> {
    if (this.failWith) {
      return Promise.reject(this.failWith);
    }
    const record = { ...input, id: `audit-${this.records.length + 1}` };
    this.records.push(record);

    return Promise.resolve(record);
  }
}

class RecordingMetrics implements PolicySidecarMetrics {
  readonly decisions: string[] = [];
  readonly durations: number[] = [];
  policyDecision(effect: string, rule: string, seconds: number): void {
    this.decisions.push(`${effect}/${rule}`);
    this.durations.push(seconds);
  }
  setPolicyBundleVersion(): void {}
  policyBundleRejected(): void {}
}

class Plugins {
  readonly entries = new Map<string, PluginStatusEntry>();
  set(id: string, status: PluginStatus, traits: string[] = []): void {
    this.entries.set(id, {
      id,
      status,
      traits,
      version: '1.0.0',
      manifestDigest: 'ab'.repeat(32),
      updatedAt: new Date().toISOString(),
    });
  }
  get(id: string): PluginStatusEntry | undefined {
    return this.entries.get(id);
  }
}

interface CallOptions {
  token?: string;
  classification?: Classification[];
  payload?: unknown;
  traceparent?: string;
}

function guardInput(access: Access, options: CallOptions = {}): GuardInput {
  const hdrs = headers();
  if (options.token !== undefined) {
    hdrs.set('Authorization', `Bearer ${options.token}`);
  }
  if (options.traceparent !== undefined) {
    hdrs.set('traceparent', options.traceparent);
  }

  return {
    subject: 'test.thing.do',
    headers: hdrs,
    access,
    classification: options.classification ?? [],
    payload: options.payload ?? { text: 'hi' },
  };
}

async function refusal(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe(PolicySidecar.name, () => {
  let audit: RecordingAudit;
  let metrics: RecordingMetrics;
  let plugins: Plugins;
  let sessions: Sessions;
  let engine: CachedPolicyEngine;
  let sut: PolicySidecar;
  const admin = tokenOf('user', USER_ID, ['admin', 'user_manager', 'viewer']);
  const viewer = tokenOf('user', USER_ID, ['viewer']);
  const phiHandler = tokenOf('user', USER_ID, ['viewer', ...PHI_TRAITS]);

  function build(bundle: PolicyBundle = emptyBundle()): void {
    engine = new CachedPolicyEngine(bundle);
    sut = new PolicySidecar({
      verifier: new FakeVerifier(),
      plugins,
      sessions,
      decider: engine,
      audit,
      metrics,
      now: () => Date.parse('2030-01-01T00:00:00Z'),
    });
  }

  beforeEach(() => {
    audit = new RecordingAudit();
    metrics = new RecordingMetrics();
    plugins = new Plugins();
    sessions = new Sessions();
    build();
  });

  describe('authentication', () => {
    it('refuses a request without a bearer token with UNAUTHENTICATED token_missing, unaudited', async () => {
      const error = await refusal(sut.authorize(guardInput({ action: 'identity.user.list' })));

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('token_missing');
      expect(audit.records).toEqual([]);
    });

    it("passes the verifier's refusal through", async () => {
      const error = await refusal(sut.authorize(guardInput({ action: 'traits.read' }, { token: 'forged' })));

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('signature_invalid');
    });
  });

  describe('revoked user tokens', () => {
    const list = { action: 'identity.user.list', kinds: ['user' as const] };

    it("refuses a user token issued before the user's validAfter with UNAUTHENTICATED token_revoked, audited", async () => {
      sessions.entries.set(USER_ID, { active: true, validAfter: ISSUED_AT + 1 });

      const error = await refusal(
        sut.authorize(guardInput(list, { token: admin, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` })),
      );

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('token_revoked');
      expect(error.auditId).toBe('audit-1');
      expect(audit.records).toHaveLength(1);
      expect(audit.records[0]).toMatchObject({
        category: 'policy',
        action: 'policy.decide',
        outcome: 'denied',
        actor: { kind: 'user', id: `user:${USER_ID}` },
        details: { effect: 'deny', ruleId: 'user_token_revoked', reason: 'token_revoked', traceId: TRACE_ID },
      });
      expect(metrics.decisions).toEqual(['deny/user_token_revoked']);
    });

    it('lets a token issued in the very second of validAfter through (a login right after the change)', async () => {
      sessions.entries.set(USER_ID, { active: true, validAfter: ISSUED_AT });

      const result = await sut.authorize(guardInput(list, { token: admin }));

      expect(result.principal.id).toBe(USER_ID);
    });

    it('refuses every token of a deactivated user, however recent', async () => {
      sessions.entries.set(USER_ID, { active: false, validAfter: ISSUED_AT - 100 });

      const error = await refusal(sut.authorize(guardInput(list, { token: admin })));

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('token_revoked');
      expect(audit.records[0]?.details).toMatchObject({ ruleId: 'user_inactive', reason: 'token_revoked' });
    });

    it('answers UNAVAILABLE while the revocations are not loaded, never lets the token through', async () => {
      sessions.unavailable = true;

      const error = await refusal(sut.authorize(guardInput(list, { token: admin })));

      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.reason).toBe('revocations_unavailable');
    });

    it('never consults them for plugin and service principals, whatever their id', async () => {
      sessions.entries.set('acme-crm', { active: false, validAfter: ISSUED_AT + 1 });
      sessions.entries.set('event-router', { active: false, validAfter: ISSUED_AT + 1 });
      plugins.set('acme-crm', 'active', ['viewer']);

      const outcomes = await Promise.allSettled([
        sut.authorize(
          guardInput({ action: 'traits.read' }, { token: tokenOf('plugin', 'acme-crm', ['viewer']) }),
        ),
        sut.authorize(
          guardInput(
            { action: 'events.event.deliver', kinds: ['service'] },
            { token: tokenOf('service', 'event-router', ['system_core']) },
          ),
        ),
      ]);

      expect(sessions.asked).toEqual([]);
      for (const outcome of outcomes) {
        expect(outcome.status === 'rejected' ? (outcome.reason as VivifiedError).reason : 'ran').not.toBe(
          'token_revoked',
        );
      }
    });
  });

  describe('authenticate (a public contract that authenticates its caller itself)', () => {
    const input = (options: CallOptions = {}) => {
      const { headers: hdrs, subject } = guardInput({ public: true }, options);

      return { subject, headers: hdrs, action: 'identity.mfa.totp-setup' };
    };

    it('answers the verified token of a user whose tokens stand, without an audit record', async () => {
      sessions.entries.set(USER_ID, { active: true, validAfter: ISSUED_AT });

      const verified = await sut.authenticate(input({ token: viewer }));

      expect(verified.principal).toMatchObject({ kind: 'user', id: USER_ID });
      expect(verified.claims.iat).toBe(ISSUED_AT);
      expect(audit.records).toEqual([]);
    });

    it('refuses a revoked user token with UNAUTHENTICATED token_revoked, audited as authorize audits it', async () => {
      sessions.entries.set(USER_ID, { active: true, validAfter: ISSUED_AT + 1 });

      const error = await refusal(
        sut.authenticate(input({ token: viewer, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` })),
      );

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.reason).toBe('token_revoked');
      expect(error.auditId).toBe('audit-1');
      expect(audit.records[0]).toMatchObject({
        category: 'policy',
        action: 'policy.decide',
        outcome: 'denied',
        actor: { kind: 'user', id: `user:${USER_ID}` },
        details: {
          action: 'identity.mfa.totp-setup',
          effect: 'deny',
          ruleId: 'user_token_revoked',
          reason: 'token_revoked',
          subject: 'test.thing.do',
          traceId: TRACE_ID,
        },
      });
      expect(metrics.decisions).toEqual(['deny/user_token_revoked']);
    });

    it('refuses a deactivated user, answers UNAVAILABLE while not loaded, and token_missing without a bearer', async () => {
      sessions.entries.set(USER_ID, { active: false, validAfter: ISSUED_AT - 100 });
      const inactive = await refusal(sut.authenticate(input({ token: viewer })));
      sessions.unavailable = true;
      const unavailable = await refusal(sut.authenticate(input({ token: viewer })));
      const missing = await refusal(sut.authenticate(input()));

      expect(inactive).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_revoked' });
      expect(audit.records[0]?.details).toMatchObject({ ruleId: 'user_inactive' });
      expect(unavailable).toMatchObject({ code: ErrorCode.Unavailable, reason: 'revocations_unavailable' });
      expect(missing).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'token_missing' });
    });

    it('answers plugin and service tokens without looking them up (the caller decides what they may do)', async () => {
      const verified = await sut.authenticate(input({ token: tokenOf('service', 'event-router') }));

      expect(verified.principal.kind).toBe('service');
      expect(sessions.asked).toEqual([]);
    });
  });

  describe('allow', () => {
    it('hands the principal and the payload unchanged to the handler, without an audit record at standard level', async () => {
      const payload = { limit: 10 };

      const result = await sut.authorize(
        guardInput({ action: 'identity.user.list', kinds: ['user'] }, { token: admin, payload }),
      );

      expect(result.principal).toMatchObject({ kind: 'user', id: USER_ID });
      expect(result.payload).toBe(payload);
      expect(metrics.decisions).toEqual(['allow/capability']);
      expect(metrics.durations[0]).toBeGreaterThanOrEqual(0);
      expect(audit.records).toEqual([]);
    });

    it('audits an allow of an action audited detailed (user creation), without the payload', async () => {
      await sut.authorize(
        guardInput(
          { action: 'identity.user.create', anyTrait: ['user_manager'], kinds: ['user'] },
          { token: admin, payload: { username: 'carol', password: 'Secret-Password-1' } },
        ),
      );
      await Promise.resolve();

      expect(audit.records).toHaveLength(1);
      const [record] = audit.records;
      expect(record).toMatchObject({
        category: 'policy',
        action: 'policy.decide',
        outcome: 'success',
        actor: { kind: 'user', id: `user:${USER_ID}` },
        details: { action: 'identity.user.create', effect: 'allow', ruleId: 'capability', bundleVersion: 0 },
      });
      expect(JSON.stringify(record)).not.toContain('carol');
      expect(JSON.stringify(record)).not.toContain('Secret-Password-1');
    });

    it('waits for the record of a PHI allow and refuses the call when the audit trail cannot take it', async () => {
      const access: Access = { action: 'traits.read' };

      await sut.authorize(guardInput(access, { token: phiHandler, classification: ['phi'] }));
      audit.failWith = new VivifiedError(ErrorCode.Unavailable, 'audit trail unavailable', {
        reason: 'audit_unavailable',
      });
      const error = await refusal(
        sut.authorize(guardInput(access, { token: phiHandler, classification: ['phi'] })),
      );

      expect(audit.records.map((record) => record.classification)).toEqual([['phi']]);
      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.reason).toBe('audit_unavailable');
    });

    it('audits a PII allow and names the trace of the caller', async () => {
      await sut.authorize(
        guardInput(
          { action: 'traits.read' },
          {
            token: tokenOf('user', USER_ID, ['handles_pii', 'audit_required']),
            classification: ['pii'],
            traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
          },
        ),
      );
      await Promise.resolve();

      expect(audit.records[0]).toMatchObject({
        outcome: 'success',
        classification: ['pii'],
        details: { effect: 'allow', ruleId: 'any_principal', traceId: TRACE_ID },
      });
    });
  });

  describe('deny', () => {
    it('refuses with POLICY_DENIED, the rule reason and the id of the audit record of the deny', async () => {
      const error = await refusal(
        sut.authorize(
          guardInput(
            { action: 'identity.user.create', kinds: ['user'] },
            { token: viewer, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
          ),
        ),
      );

      expect(error.code).toBe(ErrorCode.PolicyDenied);
      expect(error.message).toBe('access denied');
      expect(error.reason).toBe('user_manager_required');
      expect(audit.records).toHaveLength(1);
      expect(error.auditId).toBe(audit.records[0]?.id);
      expect(audit.records[0]).toMatchObject({
        category: 'policy',
        action: 'policy.decide',
        outcome: 'denied',
        details: {
          action: 'identity.user.create',
          effect: 'deny',
          ruleId: 'capability',
          reason: 'user_manager_required',
          bundleVersion: 0,
          traceId: TRACE_ID,
          subject: 'test.thing.do',
        },
      });
      expect(metrics.decisions).toEqual(['deny/capability']);
    });

    it('refuses PHI to an admin without the PHI traits (admin is not a PHI key)', async () => {
      const error = await refusal(
        sut.authorize(guardInput({ action: 'traits.read', classification: ['phi'] }, { token: admin })),
      );

      expect(error.reason).toBe('phi_trait_missing');
      expect(audit.records[0]?.classification).toEqual(['phi']);
    });

    it('refuses an action the engine does not know', async () => {
      const error = await refusal(sut.authorize(guardInput({ action: 'test.thing.read' }, { token: admin })));

      expect(error.code).toBe(ErrorCode.PolicyDenied);
      expect(error.reason).toBe('unknown_action');
    });

    it('still denies, without an audit id, when the deny cannot be audited', async () => {
      audit.failWith = new Error('stream gone');

      const error = await refusal(
        sut.authorize(guardInput({ action: 'identity.user.create' }, { token: viewer })),
      );

      expect(error.code).toBe(ErrorCode.PolicyDenied);
      expect(error.auditId).toBeUndefined();
    });
  });

  describe("the contract's hard constraints", () => {
    it('refuses a kind of principal the contract does not list, before the engine', async () => {
      const error = await refusal(
        sut.authorize(
          guardInput({ action: 'identity.plugin-credential.issue', kinds: ['service'] }, { token: admin }),
        ),
      );

      expect(error.code).toBe(ErrorCode.PolicyDenied);
      expect(error.reason).toBe('principal_kind_not_allowed');
      expect(error.auditId).toBe(audit.records[0]?.id);
      expect(audit.records[0]?.details).toMatchObject({ ruleId: 'contract_kinds', effect: 'deny' });
      expect(metrics.decisions).toEqual(['deny/contract_kinds']);
    });

    it('refuses a caller without any of the traits the contract lists', async () => {
      const error = await refusal(
        sut.authorize(
          guardInput(
            { action: 'identity.user.list', anyTrait: ['user_manager'], kinds: ['user'] },
            { token: viewer },
          ),
        ),
      );

      expect(error.reason).toBe('trait_missing');
      expect(audit.records[0]?.details).toMatchObject({ ruleId: 'contract_traits' });
    });
  });

  describe('live plugin status', () => {
    const plugin = tokenOf('plugin', 'acme-crm', PHI_TRAITS);

    it.each<[string, PluginStatus | undefined, string]>([
      ['unknown to the registry', undefined, 'plugin_unknown'],
      ['waiting for approval', 'pending_approval', 'plugin_pending_approval'],
      ['disabled', 'disabled', 'plugin_disabled'],
      ['revoked', 'revoked', 'plugin_revoked'],
    ])('refuses a plugin %s with PLUGIN_INACTIVE and audits it', async (_case, status, reason) => {
      if (status) {
        plugins.set('acme-crm', status, ['viewer']);
      }

      const error = await refusal(sut.authorize(guardInput({ action: 'traits.read' }, { token: plugin })));

      expect(error.code).toBe(ErrorCode.PluginInactive);
      expect(error.reason).toBe(reason);
      expect(error.auditId).toBe(audit.records[0]?.id);
      expect(audit.records[0]).toMatchObject({
        pluginId: 'acme-crm',
        actor: { kind: 'plugin', id: 'plugin:acme-crm' },
        details: { ruleId: 'plugin_status', reason },
      });
    });

    it('serves an active plugin with the traits the registry approved, not the ones its token claims', async () => {
      plugins.set('acme-crm', 'active', ['viewer']);

      const result = await sut.authorize(guardInput({ action: 'traits.read' }, { token: plugin }));
      const error = await refusal(
        sut.authorize(guardInput({ action: 'traits.read' }, { token: plugin, classification: ['phi'] })),
      );

      expect(result.principal).toMatchObject({ kind: 'plugin', id: 'acme-crm', traits: ['viewer'] });
      expect(error.reason).toBe('phi_trait_missing');
    });

    it('takes a status change at the next call (the lookup is live)', async () => {
      plugins.set('acme-crm', 'active', []);
      await expect(
        sut.authorize(guardInput({ action: 'traits.read' }, { token: plugin })),
      ).resolves.toBeDefined();

      plugins.set('acme-crm', 'disabled', []);
      const error = await refusal(sut.authorize(guardInput({ action: 'traits.read' }, { token: plugin })));

      expect(error.code).toBe(ErrorCode.PluginInactive);
    });

    it("names the resource from the payload: a plugin's heartbeat is its own only", async () => {
      plugins.set('acme-crm', 'active', []);
      const access: Access = { action: 'registry.heartbeat', kinds: ['plugin'] };

      const own = await sut.authorize(
        guardInput(access, { token: plugin, payload: { pluginId: 'acme-crm' } }),
      );
      const error = await refusal(
        sut.authorize(guardInput(access, { token: plugin, payload: { pluginId: 'other-plugin' } })),
      );

      expect(own.payload).toEqual({ pluginId: 'acme-crm' });
      expect(error.reason).toBe('not_own_plugin');
    });
  });

  describe('sanitize', () => {
    it('strips the fields the decision names before the handler sees the payload, and audits it', async () => {
      sut.enrich('events.event.deliver', (input, context) => ({
        ...input,
        source: { pluginId: 'crm', traits: ['handles_pii', 'audit_required'] },
        target: { pluginId: (context.payload as { to: string }).to, traits: [] },
      }));
      const payload = {
        to: 'mailer',
        event: { name: 'Ada', email: 'ada@example.org', contacts: [{ phone: '555-0100', kind: 'home' }] },
      };

      const result = await sut.authorize(
        guardInput(
          { action: 'events.event.deliver', kinds: ['service'] },
          {
            token: tokenOf('service', 'event-router', ['system_core']),
            classification: ['pii'],
            payload,
          },
        ),
      );
      await Promise.resolve();

      expect(result.payload).toEqual({ to: 'mailer', event: { name: 'Ada', contacts: [{ kind: 'home' }] } });
      expect(payload.event.email).toBe('ada@example.org');
      expect(audit.records[0]).toMatchObject({
        outcome: 'success',
        details: { effect: 'sanitize', ruleId: 'plugin_target_data', redactedFields: [...piiRedactFields] },
      });
      expect(metrics.decisions).toEqual(['sanitize/plugin_target_data']);
    });

    it('keeps the action, principal and classification it built whatever an enricher returns', async () => {
      sut.enrich('identity.user.create', (input) => ({
        ...input,
        action: 'traits.read',
        principal: { ...input.principal, traits: ['admin', 'user_manager'] },
        classification: [],
      }));

      const error = await refusal(
        sut.authorize(guardInput({ action: 'identity.user.create' }, { token: viewer })),
      );

      expect(error.reason).toBe('user_manager_required');
    });
  });

  describe('decision cache', () => {
    it('never answers a decision made for another classification, in either order', async () => {
      const access: Access = { action: 'traits.read' };
      const call = (classification: Classification[]) =>
        sut.authorize(guardInput(access, { token: admin, classification })).then(
          () => 'allow',
          (error: VivifiedError) => error.reason,
        );

      const results = [
        await call([]),
        await call(['phi']),
        await call([]),
        await call(['pii']),
        await call(['phi']),
        await call([]),
      ];

      expect(results).toEqual([
        'allow',
        'phi_trait_missing',
        'allow',
        'pii_trait_missing',
        'phi_trait_missing',
        'allow',
      ]);
      expect(engine.stats().hits).toBeGreaterThanOrEqual(3);
    });

    it('keys by the caller too: the same action for a viewer and an admin decides twice', async () => {
      const access: Access = { action: 'identity.user.list', kinds: ['user'] };

      await sut.authorize(guardInput(access, { token: admin }));
      const error = await refusal(sut.authorize(guardInput(access, { token: viewer })));

      expect(error.reason).toBe('user_manager_required');
      expect(engine.stats().misses).toBe(2);
    });

    it('decides with the bundle in force: an operator rule added by a new bundle opens the call', async () => {
      const caller = tokenOf('plugin', 'crm', []);
      plugins.set('crm', 'active', []);
      sut.enrich('gateway.rpc.call', (input) => ({
        ...input,
        source: { pluginId: 'crm', traits: [] },
        target: { pluginId: 'billing', traits: [] },
        context: { operation: 'get_invoice' },
      }));
      const access: Access = { action: 'gateway.rpc.call', kinds: ['plugin', 'service'] };

      const before = await refusal(sut.authorize(guardInput(access, { token: caller })));
      engine.setBundle({
        version: 7,
        createdAt: '2030-01-01T00:00:00Z',
        rules: [{ type: 'operator', caller: 'crm', target: 'billing', operations: ['get_invoice'] }],
      });
      const after = await sut.authorize(guardInput(access, { token: caller }));

      expect(before.reason).toBe('operation_not_allowlisted');
      expect(after.principal.id).toBe('crm');
      expect(sut.bundleVersion).toBe(7);
    });
  });
});
