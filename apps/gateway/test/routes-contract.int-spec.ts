import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { dynamicSubjects } from '@vivified/contracts';
import { encodeJson } from '@vivified/nats-transport';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EgressResolver } from '../src/lanes/proxy/egress.client';
import type { HttpAnswer, HttpCall } from './routes-harness';
import { RoutesHarness } from './routes-harness';

/**
 * The HTTP contract of every gateway route (issue 8): the route list comes from the gateway's own OpenAPI document,
 * so a route added later fails this suite until it has a row below. Each row says whether the route is public (and
 * why), which principals the policy gate lets through and which it refuses, and what an invalid request looks like.
 */

const ADMIN_PASSWORD = 'Correct-Horse-Battery-9';
const USER_PASSWORD = 'Contract-Password-2026';
/** Requests per minute per principal and route: high enough for the suite, low enough to reach in a test. */
const RATE_LIMIT = 40;
const EGRESS_HOST = 'egress.vivified-contract.org';

const CALLER = 'contract-caller';
const TARGET = 'contract-target';
const EGRESS = 'contract-egress';
const PENDING = 'contract-pending';
const SPARE = 'contract-spare';
const DOOMED = 'contract-doomed';
const NEW_PLUGIN = 'contract-new';

/** Who calls: real users logged in through identity, principals minted by the TestAuthority, real plugin tokens. */
type Who =
  | 'admin'
  | 'operator'
  | 'viewer'
  | 'passwordUser'
  | 'leavingUser'
  | 'securityAdmin'
  | 'compliance'
  | 'plugin'
  | 'egress';

/** What the suite set up, for the rows' requests. */
interface Context {
  tokens: Record<Who, string>;
  viewerId: string;
  spareUserId: string;
  egressPort: number;
  rules: unknown[];
  refreshToken: () => Promise<string>;
  callerSecret: string;
}

/** One request of a row, before its token is chosen. */
type Request = Omit<HttpCall, 'token'>;

interface Gate {
  /** A principal the gate lets through (the answer is then neither 401 nor 403). */
  allow: Who;
  /** The exact success status the allowed request answers, where it is known. */
  status?: number;
  /** Principals refused with 403 POLICY_DENIED. */
  deny: Who[];
}

interface Invalid {
  request: (c: Context) => Request;
  /** Who sends it (allowed by the gate). */
  who: Who;
  /** The field the envelope must name. */
  field: string;
  /** The envelope code. @default VALIDATION_FAILED */
  code?: string;
  /**
   * Why the envelope names the field in its message only, without `details` (a known gap, reported; the row then
   * checks the message and the reason).
   */
  messageOnly?: string;
}

interface Row {
  method: string;
  /** The path as OpenAPI writes it. */
  path: string;
  /** Why the route answers without a bearer token; absent for authenticated routes. */
  public?: string;
  /** A well-formed request. */
  request: (c: Context) => Request;
  /** For public routes: what an anonymous caller gets with that request. */
  anonymous?: number[];
  gate?: Gate;
  /** Invalid requests (body, path parameter or query), each refused with 400 naming its field. */
  invalid?: Invalid | Invalid[];
}

const manifest = (id: string, patch: Record<string, unknown> = {}) => ({
  id,
  name: `Plugin ${id}`,
  version: '1.0.0',
  description: 'A plugin of the route contract suite',
  contracts: [],
  traits: ['communication_plugin'],
  dependencies: [],
  events: { publishes: [], subscribes: [] },
  operations: [],
  allowedDomains: [],
  delivery: { mode: 'nats' },
  security: { authenticationRequired: true, dataClassification: ['internal'] },
  compliance: { hipaaControls: [], auditLevel: 'standard' },
  resources: { memoryMb: 128, cpu: 0.25 },
  healthCheck: { type: 'nats', intervalSeconds: 30 },
  rateLimits: {},
  ...patch,
});

const simulation = {
  action: 'identity.user.list',
  principal: {
    kind: 'user',
    id: '00000000-0000-4000-8000-000000000001',
    traits: ['viewer'],
    status: 'active',
  },
  resource: { type: 'users' },
  classification: [],
};

const fakeAssertion = {
  ceremonyId: '00000000-0000-4000-8000-00000000beef',
  credential: {
    id: 'AAAA',
    rawId: 'AAAA',
    response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' },
    clientExtensionResults: {},
    type: 'public-key',
  },
};

const fakeAttestation = {
  ceremonyId: '00000000-0000-4000-8000-00000000cafe',
  credential: {
    id: 'AAAA',
    rawId: 'AAAA',
    response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' },
    clientExtensionResults: {},
    type: 'public-key',
  },
};

const NOBODY = '00000000-0000-4000-8000-00000000dead';

/** Every route of the gateway's OpenAPI document. */
const ROUTES: Row[] = [
  // --- public -------------------------------------------------------------------------------------------------
  {
    method: 'GET',
    path: '/health',
    public: 'liveness and readiness for a load balancer in front of the gateway',
    request: () => ({ method: 'GET', path: '/health' }),
    anonymous: [200],
  },
  {
    method: 'GET',
    path: '/.well-known/jwks.json',
    public: 'the public keys that verify tokens (no secret member)',
    request: () => ({ method: 'GET', path: '/.well-known/jwks.json' }),
    anonymous: [200],
  },
  {
    method: 'POST',
    path: '/v1/auth/login',
    public: 'password login; the password is the credential (login rate limit per address)',
    request: () => ({
      method: 'POST',
      path: '/v1/auth/login',
      body: { username: 'contract-viewer', password: USER_PASSWORD },
    }),
    anonymous: [200],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/login', body: { username: '', password: 'x' } }),
      field: 'username',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/refresh',
    public: 'the refresh token in the body is the credential',
    request: () => ({ method: 'POST', path: '/v1/auth/refresh' }),
    anonymous: [200],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/refresh', body: { refreshToken: 5 } }),
      field: 'refreshToken',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/logout',
    public: 'the refresh token in the body is the credential',
    request: () => ({ method: 'POST', path: '/v1/auth/logout' }),
    anonymous: [204],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/logout', body: {} }),
      field: 'refreshToken',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/mfa/totp/setup',
    public: 'first-login enrolment carries an enrolment token in the body instead of a bearer token',
    request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/setup', body: {} }),
    // without an enrolment token or a bearer token identity refuses it
    anonymous: [401],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/setup', body: { enrollmentToken: 5 } }),
      field: 'enrollmentToken',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/mfa/totp/enable',
    public: 'first-login enrolment carries an enrolment token in the body instead of a bearer token',
    request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/enable', body: { code: '123456' } }),
    anonymous: [401],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/enable', body: { code: 'abc' } }),
      field: 'code',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/webauthn/login/options',
    public: 'starts a passkey login, before the caller has any token',
    request: () => ({ method: 'POST', path: '/v1/auth/webauthn/login/options', body: {} }),
    anonymous: [200],
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/webauthn/login/options', body: { username: '' } }),
      field: 'username',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/webauthn/login/verify',
    public: 'the passkey assertion is the credential',
    request: () => ({ method: 'POST', path: '/v1/auth/webauthn/login/verify', body: fakeAssertion }),
    // an unknown ceremony is refused as unauthenticated
    anonymous: [401],
    invalid: {
      who: 'viewer',
      request: () => ({
        method: 'POST',
        path: '/v1/auth/webauthn/login/verify',
        body: { ...fakeAssertion, ceremonyId: 'nope' },
      }),
      field: 'ceremonyId',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/password',
    public:
      'a login that answered passwordChangeRequired has no bearer yet: its password-change token in the body is ' +
      'the credential; without one the route wants a bearer token (checked before the body) and identity gates it',
    request: () => ({
      method: 'POST',
      path: '/v1/auth/password',
      body: { currentPassword: USER_PASSWORD, newPassword: 'Changed-Contract-Pass-27' },
    }),
    // neither a password-change token nor a bearer token
    anonymous: [401],
    invalid: [
      {
        who: 'viewer',
        request: () => ({
          method: 'POST',
          path: '/v1/auth/password',
          body: { currentPassword: USER_PASSWORD },
        }),
        field: 'newPassword',
      },
      {
        who: 'viewer',
        request: () => ({
          method: 'POST',
          path: '/v1/auth/password',
          body: { passwordChangeToken: 5, newPassword: 'Changed-Contract-Pass-27' },
        }),
        field: 'passwordChangeToken',
      },
    ],
  },
  {
    method: 'POST',
    path: '/v1/plugins/token',
    public: "the plugin's client secret is the credential",
    request: (c) => ({
      method: 'POST',
      path: '/v1/plugins/token',
      body: { pluginId: CALLER, clientSecret: c.callerSecret },
    }),
    anonymous: [200],
    invalid: {
      who: 'viewer',
      request: () => ({
        method: 'POST',
        path: '/v1/plugins/token',
        body: { pluginId: 'BAD', clientSecret: 'x' },
      }),
      field: 'pluginId',
    },
  },

  // --- own account (any user; plugins are refused) ----------------------------------------------------------
  {
    method: 'GET',
    path: '/v1/me',
    request: () => ({ method: 'GET', path: '/v1/me' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },
  {
    method: 'POST',
    path: '/v1/auth/logout-all',
    request: () => ({ method: 'POST', path: '/v1/auth/logout-all' }),
    // a user of its own: logging out everywhere ends every token it holds
    gate: { allow: 'leavingUser', status: 204, deny: ['plugin'] },
  },
  {
    method: 'POST',
    path: '/v1/auth/mfa/totp/disable',
    request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/disable', body: { code: '123456' } }),
    // the viewer has no TOTP to turn off: refused past the gate
    gate: { allow: 'viewer', deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/auth/mfa/totp/disable', body: { code: 'abc' } }),
      field: 'code',
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/mfa/backup-codes',
    request: () => ({ method: 'POST', path: '/v1/auth/mfa/backup-codes' }),
    gate: { allow: 'admin', status: 200, deny: ['plugin'] },
  },
  {
    method: 'POST',
    path: '/v1/auth/webauthn/register/options',
    request: () => ({ method: 'POST', path: '/v1/auth/webauthn/register/options' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },
  {
    method: 'POST',
    path: '/v1/auth/webauthn/register/verify',
    request: () => ({ method: 'POST', path: '/v1/auth/webauthn/register/verify', body: fakeAttestation }),
    // an unknown ceremony: refused past the gate
    gate: { allow: 'viewer', deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({
        method: 'POST',
        path: '/v1/auth/webauthn/register/verify',
        body: { ...fakeAttestation, ceremonyId: 'nope' },
      }),
      field: 'ceremonyId',
    },
  },
  {
    method: 'GET',
    path: '/v1/auth/webauthn/credentials',
    request: () => ({ method: 'GET', path: '/v1/auth/webauthn/credentials' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },
  {
    method: 'DELETE',
    path: '/v1/auth/webauthn/credentials/{id}',
    request: () => ({ method: 'DELETE', path: `/v1/auth/webauthn/credentials/${NOBODY}` }),
    gate: { allow: 'viewer', status: 404, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'DELETE', path: '/v1/auth/webauthn/credentials/nope' }),
      field: 'id',
    },
  },
  {
    method: 'GET',
    path: '/v1/api-keys',
    request: () => ({ method: 'GET', path: '/v1/api-keys' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },
  {
    method: 'POST',
    path: '/v1/api-keys',
    request: () => ({ method: 'POST', path: '/v1/api-keys', body: { name: 'contract', scopes: ['viewer'] } }),
    gate: { allow: 'viewer', status: 201, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'POST', path: '/v1/api-keys', body: { name: 'contract', scopes: [] } }),
      field: 'scopes',
    },
  },
  {
    method: 'DELETE',
    path: '/v1/api-keys/{id}',
    request: () => ({ method: 'DELETE', path: `/v1/api-keys/${NOBODY}` }),
    gate: { allow: 'viewer', status: 404, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'DELETE', path: '/v1/api-keys/nope' }),
      field: 'id',
    },
  },

  // --- keys -------------------------------------------------------------------------------------------------
  {
    method: 'POST',
    path: '/v1/keys/rotate',
    request: () => ({ method: 'POST', path: '/v1/keys/rotate' }),
    // security_admin only: not even the admin role
    gate: { allow: 'securityAdmin', status: 200, deny: ['admin', 'operator', 'viewer', 'plugin'] },
  },

  // --- users and roles (user_manager) -------------------------------------------------------------------------
  {
    method: 'GET',
    path: '/v1/users',
    request: () => ({ method: 'GET', path: '/v1/users?limit=5' }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: { who: 'admin', request: () => ({ method: 'GET', path: '/v1/users?limit=0' }), field: 'limit' },
  },
  {
    method: 'POST',
    path: '/v1/users',
    request: () => ({
      method: 'POST',
      path: '/v1/users',
      body: { username: 'contract-created', password: USER_PASSWORD, roles: ['viewer'] },
    }),
    gate: { allow: 'admin', status: 201, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({
        method: 'POST',
        path: '/v1/users',
        body: { username: 'contract-invalid', password: USER_PASSWORD, email: 'not-an-email' },
      }),
      field: 'email',
    },
  },
  {
    method: 'GET',
    path: '/v1/users/{id}',
    request: (c) => ({ method: 'GET', path: `/v1/users/${c.viewerId}` }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: { who: 'admin', request: () => ({ method: 'GET', path: '/v1/users/nope' }), field: 'id' },
  },
  {
    method: 'PATCH',
    path: '/v1/users/{id}',
    request: (c) => ({ method: 'PATCH', path: `/v1/users/${c.spareUserId}`, body: { displayName: 'Spare' } }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: (c) => ({ method: 'PATCH', path: `/v1/users/${c.spareUserId}`, body: { active: 'no' } }),
      field: 'active',
    },
  },
  {
    method: 'PUT',
    path: '/v1/users/{id}/roles',
    request: (c) => ({
      method: 'PUT',
      path: `/v1/users/${c.spareUserId}/roles`,
      body: { roles: ['developer'] },
    }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: (c) => ({ method: 'PUT', path: `/v1/users/${c.spareUserId}/roles`, body: { roles: 'admin' } }),
      field: 'roles',
    },
  },
  {
    method: 'POST',
    path: '/v1/users/{id}/unlock',
    request: (c) => ({ method: 'POST', path: `/v1/users/${c.spareUserId}/unlock` }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'POST', path: '/v1/users/nope/unlock' }),
      field: 'id',
    },
  },
  {
    method: 'POST',
    path: '/v1/users/{id}/password-reset',
    request: (c) => ({
      method: 'POST',
      path: `/v1/users/${c.spareUserId}/password-reset`,
      body: { password: 'Spare-One-Time-Pass-2026' },
    }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: [
      {
        who: 'admin',
        request: () => ({ method: 'POST', path: '/v1/users/nope/password-reset', body: {} }),
        field: 'id',
      },
      {
        who: 'admin',
        request: (c) => ({
          method: 'POST',
          path: `/v1/users/${c.spareUserId}/password-reset`,
          body: { password: 7 },
        }),
        field: 'password',
      },
    ],
  },
  {
    method: 'POST',
    path: '/v1/users/{id}/mfa-reset',
    request: (c) => ({ method: 'POST', path: `/v1/users/${c.spareUserId}/mfa-reset`, body: {} }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: (c) => ({
        method: 'POST',
        path: `/v1/users/${c.spareUserId}/mfa-reset`,
        body: { passkeys: 'yes' },
      }),
      field: 'passkeys',
    },
  },
  {
    method: 'GET',
    path: '/v1/roles',
    request: () => ({ method: 'GET', path: '/v1/roles' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },

  // --- policy ---------------------------------------------------------------------------------------------------
  {
    method: 'GET',
    path: '/v1/policy/rules',
    request: () => ({ method: 'GET', path: '/v1/policy/rules' }),
    gate: { allow: 'compliance', status: 200, deny: ['operator', 'viewer', 'plugin'] },
  },
  {
    method: 'PUT',
    path: '/v1/policy/rules',
    // the same rules the suite runs under: the write changes nothing the other rows need
    request: (c) => ({ method: 'PUT', path: '/v1/policy/rules', body: { rules: c.rules } }),
    gate: { allow: 'admin', status: 200, deny: ['compliance', 'operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'PUT', path: '/v1/policy/rules', body: { rules: 'none' } }),
      field: 'rules',
    },
  },
  {
    method: 'GET',
    path: '/v1/policy/rules/history',
    request: () => ({ method: 'GET', path: '/v1/policy/rules/history?limit=5' }),
    gate: { allow: 'compliance', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'GET', path: '/v1/policy/rules/history?limit=abc' }),
      field: 'limit',
    },
  },
  {
    method: 'POST',
    path: '/v1/policy/simulate',
    request: () => ({ method: 'POST', path: '/v1/policy/simulate', body: simulation }),
    // what-if decisions are for rule writers: compliance officers read rules but do not simulate
    gate: { allow: 'securityAdmin', status: 200, deny: ['compliance', 'operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({
        method: 'POST',
        path: '/v1/policy/simulate',
        body: { ...simulation, at: 'yesterday' },
      }),
      field: 'at',
    },
  },
  {
    method: 'GET',
    path: '/v1/policy/bundle',
    request: () => ({ method: 'GET', path: '/v1/policy/bundle' }),
    gate: { allow: 'compliance', status: 200, deny: ['operator', 'viewer', 'plugin'] },
  },
  {
    method: 'GET',
    path: '/v1/traits',
    request: () => ({ method: 'GET', path: '/v1/traits' }),
    // the vocabulary is readable by any authenticated principal, plugins included
    gate: { allow: 'plugin', status: 200, deny: [] },
  },

  // --- plugins --------------------------------------------------------------------------------------------------
  {
    method: 'POST',
    path: '/v1/plugins',
    request: () => ({ method: 'POST', path: '/v1/plugins', body: manifest(NEW_PLUGIN) }),
    gate: { allow: 'operator', status: 201, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'POST', path: '/v1/plugins', body: '"not a manifest"' }),
      field: 'manifest',
    },
  },
  {
    method: 'POST',
    path: '/v1/plugins/validate',
    request: () => ({ method: 'POST', path: '/v1/plugins/validate', body: manifest('contract-dry') }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'POST', path: '/v1/plugins/validate', body: '42' }),
      field: 'manifest',
    },
  },
  {
    method: 'POST',
    path: '/v1/plugins/registration-tokens',
    request: () => ({ method: 'POST', path: '/v1/plugins/registration-tokens', body: { ttlSeconds: 300 } }),
    gate: { allow: 'admin', status: 201, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'POST', path: '/v1/plugins/registration-tokens', body: { ttlSeconds: 1 } }),
      field: 'ttlSeconds',
    },
  },
  {
    method: 'GET',
    path: '/v1/plugins',
    request: () => ({ method: 'GET', path: '/v1/plugins?status=active' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'GET', path: '/v1/plugins?status=bogus' }),
      field: 'status',
    },
  },
  {
    method: 'GET',
    path: '/v1/plugins/{id}',
    request: () => ({ method: 'GET', path: `/v1/plugins/${CALLER}` }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'GET', path: '/v1/plugins/Bad_Id' }),
      field: 'pluginId',
    },
  },
  {
    method: 'POST',
    path: '/v1/plugins/{id}/approve',
    request: () => ({ method: 'POST', path: `/v1/plugins/${PENDING}/approve`, body: { reason: 'reviewed' } }),
    // the pending plugin handles PII: approving it needs an admin, a plugin manager alone is refused
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'POST', path: `/v1/plugins/${PENDING}/approve`, body: { reason: 5 } }),
      field: 'reason',
    },
  },
  {
    method: 'POST',
    path: '/v1/plugins/{id}/disable',
    request: () => ({ method: 'POST', path: `/v1/plugins/${SPARE}/disable`, body: { reason: 'contract' } }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'POST', path: '/v1/plugins/Bad_Id/disable', body: {} }),
      field: 'pluginId',
    },
  },
  {
    method: 'POST',
    path: '/v1/plugins/{id}/enable',
    // runs after the disable row
    request: () => ({ method: 'POST', path: `/v1/plugins/${SPARE}/enable`, body: { reason: 'contract' } }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({
        method: 'POST',
        path: `/v1/plugins/${SPARE}/enable`,
        body: { reason: 'x'.repeat(501) },
      }),
      field: 'reason',
    },
  },
  {
    method: 'DELETE',
    path: '/v1/plugins/{id}',
    request: () => ({ method: 'DELETE', path: `/v1/plugins/${DOOMED}` }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'DELETE', path: '/v1/plugins/Bad_Id' }),
      field: 'pluginId',
    },
  },
  {
    method: 'GET',
    path: '/v1/plugins/{id}/config',
    request: () => ({ method: 'GET', path: `/v1/plugins/${CALLER}/config` }),
    // plugins read their own config over NATS (registry.plugin-config.self), not here
    gate: { allow: 'operator', deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'GET', path: `/v1/plugins/${CALLER}/config?version=0` }),
      field: 'version',
    },
  },
  {
    method: 'PUT',
    path: '/v1/plugins/{id}/config',
    request: () => ({
      method: 'PUT',
      path: `/v1/plugins/${CALLER}/config`,
      body: { values: {}, reason: 'contract' },
    }),
    gate: { allow: 'operator', deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({
        method: 'PUT',
        path: `/v1/plugins/${CALLER}/config`,
        body: { values: 'x', reason: 'r' },
      }),
      field: 'values',
    },
  },
  {
    method: 'GET',
    path: '/v1/plugins/{id}/config/history',
    request: () => ({ method: 'GET', path: `/v1/plugins/${CALLER}/config/history` }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'GET', path: '/v1/plugins/Bad_Id/config/history' }),
      field: 'pluginId',
    },
  },

  // --- audit (audit_viewer) ---------------------------------------------------------------------------------------
  {
    method: 'GET',
    path: '/v1/audit',
    request: () => ({ method: 'GET', path: '/v1/audit?limit=5' }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'GET', path: '/v1/audit?phiInvolved=maybe' }),
      field: 'phiInvolved',
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    request: () => ({ method: 'GET', path: '/v1/audit/verify' }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'GET', path: '/v1/audit/verify?fromSeq=0' }),
      field: 'fromSeq',
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/export',
    request: () => ({ method: 'GET', path: '/v1/audit/export?category=auth' }),
    gate: { allow: 'operator', status: 200, deny: ['viewer', 'plugin'] },
    invalid: {
      who: 'operator',
      request: () => ({ method: 'GET', path: '/v1/audit/export?category=nope' }),
      field: 'category',
    },
  },
  {
    method: 'GET',
    path: '/v1/compliance/report',
    request: () => ({ method: 'GET', path: '/v1/compliance/report' }),
    gate: { allow: 'compliance', status: 200, deny: ['viewer', 'plugin'] },
  },

  // --- events (the canonical lane for HTTP plugins) -------------------------------------------------------------
  {
    method: 'POST',
    path: '/v1/events/{eventType}',
    request: () => ({
      method: 'POST',
      path: '/v1/events/NotificationSent',
      body: { payload: { notificationId: 'n-1', channel: 'email', sentAt: new Date().toISOString() } },
    }),
    // plugins (and services) publish; users are refused, whatever their role
    gate: { allow: 'plugin', status: 200, deny: ['admin', 'viewer'] },
    invalid: [
      {
        who: 'plugin',
        request: () => ({ method: 'POST', path: '/v1/events/NotificationSent', body: { payload: 'x' } }),
        field: 'payload',
      },
      {
        who: 'plugin',
        request: () => ({ method: 'POST', path: '/v1/events/bad%20type', body: { payload: {} } }),
        field: 'eventType',
        code: 'BAD_REQUEST',
      },
    ],
  },
  {
    method: 'GET',
    path: '/v1/events/types',
    request: () => ({ method: 'GET', path: '/v1/events/types' }),
    gate: { allow: 'viewer', status: 200, deny: [] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'GET', path: `/v1/events/types?type=${'x'.repeat(201)}` }),
      field: 'type',
    },
  },
  {
    method: 'GET',
    path: '/v1/events/webhook-secret',
    request: () => ({ method: 'GET', path: '/v1/events/webhook-secret' }),
    gate: { allow: 'plugin', deny: ['admin', 'viewer'] },
  },
  {
    method: 'GET',
    path: '/v1/events/subscriptions',
    request: () => ({ method: 'GET', path: '/v1/events/subscriptions' }),
    gate: { allow: 'plugin', status: 200, deny: ['admin', 'viewer'] },
  },

  // --- lanes ------------------------------------------------------------------------------------------------------
  {
    method: 'POST',
    path: '/v1/rpc/{target}/{operation}',
    request: () => ({ method: 'POST', path: `/v1/rpc/${TARGET}/echo`, body: { hello: 'target' } }),
    // the allowlist rule names the caller plugin: users and the egress plugin are refused
    gate: { allow: 'plugin', status: 200, deny: ['admin', 'viewer', 'egress'] },
    invalid: {
      who: 'plugin',
      request: () => ({ method: 'POST', path: `/v1/rpc/${TARGET}/ec%20ho`, body: {} }),
      field: 'operation',
      code: 'BAD_REQUEST',
      messageOnly: 'the operator lane (lanes/operator) answers invalid_subject without details',
    },
  },
  {
    method: 'POST',
    path: '/v1/proxy',
    request: (c) => ({
      method: 'POST',
      path: '/v1/proxy',
      body: { method: 'GET', url: `http://${EGRESS_HOST}:${c.egressPort}/ping` },
    }),
    // external_service and an approved domain: the caller plugin has neither
    gate: { allow: 'egress', status: 200, deny: ['plugin', 'admin', 'viewer'] },
    invalid: {
      who: 'egress',
      request: (c) => ({
        method: 'POST',
        path: '/v1/proxy',
        body: { method: 'BREW', url: `http://${EGRESS_HOST}:${c.egressPort}/ping` },
      }),
      field: 'method',
    },
  },

  // --- platform configuration (config.read: config_manager or viewer; config.write: config_manager) -----------
  {
    method: 'GET',
    path: '/v1/config',
    request: () => ({ method: 'GET', path: '/v1/config' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
  },
  {
    method: 'PUT',
    path: '/v1/config',
    // a key set to its default: a new version, nothing else changes
    request: () => ({
      method: 'PUT',
      path: '/v1/config',
      body: { values: { 'ui.admin_console.enabled': true }, reason: 'contract suite' },
    }),
    gate: { allow: 'admin', status: 200, deny: ['operator', 'viewer', 'plugin'] },
    invalid: {
      who: 'admin',
      request: () => ({ method: 'PUT', path: '/v1/config', body: { values: 'x', reason: 'contract suite' } }),
      field: 'values',
    },
  },
  {
    method: 'GET',
    path: '/v1/config/history',
    request: () => ({ method: 'GET', path: '/v1/config/history?limit=5' }),
    gate: { allow: 'viewer', status: 200, deny: ['plugin'] },
    invalid: {
      who: 'viewer',
      request: () => ({ method: 'GET', path: '/v1/config/history?limit=0' }),
      field: 'limit',
    },
  },
];

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Checks the error envelope of the exception filter: `{error: {code, message, reason?, auditId?, details?}}`. */
function expectEnvelope(answer: HttpAnswer, status: number, code: string, what: string): void {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBe(status);
  expect(answer.headers.get('content-type'), what).toContain('application/json');
  expect(Object.keys(answer.body), what).toEqual(['error']);
  const error = answer.body['error'] as Record<string, unknown>;
  expect(error['code'], what).toBe(code);
  expect(typeof error['message'] === 'string' && error['message'].length > 0, what).toBe(true);
  const allowed = ['code', 'message', 'reason', 'auditId', 'details'];
  expect(
    Object.keys(error).filter((name) => !allowed.includes(name)),
    what,
  ).toEqual([]);
  // never a stack or an internal detail
  expect(answer.text, what).not.toMatch(/\bat .+\.(?:js|ts):\d+/);
}

describe('HTTP contract of every gateway route', () => {
  let harness: RoutesHarness;
  let ctx: Context;
  let server: Server;
  let documented: Map<string, { security: boolean }>;
  let rows: Row[];

  const call = (request: HttpCall) => harness.call(request);

  async function login(username: string, password = USER_PASSWORD): Promise<HttpAnswer> {
    const answer = await call({ method: 'POST', path: '/v1/auth/login', body: { username, password } });
    expect(answer.status, answer.text).toBe(200);

    return answer;
  }

  async function createUser(admin: string, username: string, roles: string[]): Promise<string> {
    const created = await call({
      method: 'POST',
      path: '/v1/users',
      token: admin,
      body: { username, password: USER_PASSWORD, roles },
    });
    expect(created.status, created.text).toBe(201);

    return created.body['id'] as string;
  }

  /** Registers a plugin (approving it when it waits for approval) and answers its client secret. */
  async function register(admin: string, body: Record<string, unknown>): Promise<string> {
    const created = await call({ method: 'POST', path: '/v1/plugins', token: admin, body });
    expect(created.status, created.text).toBe(201);
    let credentials = created.body['credentials'] as { clientSecret: string } | undefined;
    if (!credentials) {
      const approved = await call({
        method: 'POST',
        path: `/v1/plugins/${body['id'] as string}/approve`,
        token: admin,
        body: { reason: 'contract suite' },
      });
      expect(approved.status, approved.text).toBe(200);
      credentials = approved.body['credentials'] as { clientSecret: string };
    }

    return credentials.clientSecret;
  }

  async function pluginToken(pluginId: string, clientSecret: string): Promise<string> {
    const answer = await call({
      method: 'POST',
      path: '/v1/plugins/token',
      body: { pluginId, clientSecret },
    });
    expect(answer.status, answer.text).toBe(200);

    return answer.body['accessToken'] as string;
  }

  beforeAll(async () => {
    const started = Date.now();
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ pong: request.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const egressPort = (server.address() as AddressInfo).port;
    harness = await RoutesHarness.start({
      adminPassword: ADMIN_PASSWORD,
      env: {
        VIVIFIED_GATEWAY_RATE_LIMIT: String(RATE_LIMIT),
        VIVIFIED_GATEWAY_LOGIN_RATE_LIMIT: '50',
        VIVIFIED_PROXY_TEST_ALLOW_RANGES: '127.0.0.0/8',
        VIVIFIED_PROXY_HTTP_ALLOWED: `${EGRESS}=${EGRESS_HOST}`,
      },
    });
    harness.gateway.app
      .get(EgressResolver)
      .useLookup((host: string) =>
        host === EGRESS_HOST
          ? Promise.resolve([{ address: '127.0.0.1', family: 4 } satisfies LookupAddress])
          : Promise.reject(new Error(`ENOTFOUND ${host}`)),
      );

    // the first admin enrols TOTP at first login
    const first = await call({
      method: 'POST',
      path: '/v1/auth/login',
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const enrollmentToken = first.body['enrollmentToken'] as string;
    const setup = await call({ method: 'POST', path: '/v1/auth/mfa/totp/setup', body: { enrollmentToken } });
    const totp = new OTPAuth.TOTP({
      secret: OTPAuth.Secret.fromBase32(setup.body['secret'] as string),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    const enabled = await call({
      method: 'POST',
      path: '/v1/auth/mfa/totp/enable',
      body: { enrollmentToken, code: totp.generate() },
    });
    expect(enabled.status, enabled.text).toBe(200);
    const admin = enabled.body['accessToken'] as string;

    const viewerId = await createUser(admin, 'contract-viewer', ['viewer']);
    await createUser(admin, 'contract-operator', ['operator']);
    await createUser(admin, 'contract-password', ['viewer']);
    await createUser(admin, 'contract-leaving', ['viewer']);
    const spareUserId = await createUser(admin, 'contract-spare', ['viewer']);

    const target = manifest(TARGET, {
      operations: [{ name: 'echo', description: 'Echoes', requiredTraits: [], classification: ['internal'] }],
    });
    const [callerSecret, , egressSecret] = await Promise.all([
      register(admin, manifest(CALLER, { events: { publishes: ['NotificationSent'], subscribes: [] } })),
      register(admin, target),
      register(admin, manifest(EGRESS, { traits: ['external_service'], allowedDomains: [EGRESS_HOST] })),
      register(admin, manifest(SPARE)),
      register(admin, manifest(DOOMED)),
    ]);
    const pending = await call({
      method: 'POST',
      path: '/v1/plugins',
      token: admin,
      body: manifest(PENDING, {
        traits: ['handles_pii', 'audit_required'],
        security: { authenticationRequired: true, dataClassification: ['pii'] },
      }),
    });
    expect(pending.body, pending.text).toMatchObject({ status: 'pending_approval' });

    const rules = [
      { type: 'operator', caller: CALLER, target: TARGET, operations: ['echo'] },
      { type: 'proxy', plugin: EGRESS, domains: [EGRESS_HOST] },
    ];
    const put = await call({ method: 'PUT', path: '/v1/policy/rules', token: admin, body: { rules } });
    expect(put.status, put.text).toBe(200);

    // the target plugin answers its operation over NATS
    const targetNc = harness.nc;
    targetNc.subscribe(dynamicSubjects.pluginAll(TARGET), {
      callback: (_error, msg) => msg.respond(encodeJson({ echoed: true })),
    });

    const [viewer, operator, passwordUser, leavingUser, plugin, egress] = await Promise.all([
      login('contract-viewer'),
      login('contract-operator'),
      login('contract-password'),
      login('contract-leaving'),
      pluginToken(CALLER, callerSecret),
      pluginToken(EGRESS, egressSecret),
    ]);
    const mint = (traits: string[]) => harness.authority.token({ kind: 'user', id: randomUUID(), traits });
    ctx = {
      tokens: {
        admin,
        operator: operator.body['accessToken'] as string,
        viewer: viewer.body['accessToken'] as string,
        passwordUser: passwordUser.body['accessToken'] as string,
        leavingUser: leavingUser.body['accessToken'] as string,
        // identity enrols these roles only with TOTP: minted with the key every service accepts
        securityAdmin: await mint(['security_admin', 'audit_viewer', 'viewer']),
        compliance: await mint(['compliance_officer', 'audit_viewer', 'viewer']),
        plugin,
        egress,
      },
      viewerId,
      spareUserId,
      egressPort,
      rules,
      callerSecret,
      refreshToken: async () => (await login('contract-viewer')).body['refreshToken'] as string,
    };

    const openapi = await call({ method: 'GET', path: '/v1/openapi.json' });
    expect(openapi.status).toBe(200);
    documented = new Map();
    for (const [path, item] of Object.entries(
      openapi.body['paths'] as Record<string, Record<string, unknown>>,
    )) {
      for (const [method, operation] of Object.entries(item)) {
        const security = (operation as { security?: unknown[] }).security;
        documented.set(key(method, path), { security: Array.isArray(security) && security.length > 0 });
      }
    }
    rows = [...ROUTES];
    if (process.env['ROUTES_TIMING']) {
      console.info(`set up after ${Date.now() - started} ms`);
    }
  }, 150_000);

  afterAll(async () => {
    await harness?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** The row's request, with the bodies public rows need filled in. */
  async function requestOf(row: Row): Promise<Request> {
    const request = row.request(ctx);
    if (row.path === '/v1/auth/refresh' || row.path === '/v1/auth/logout') {
      return { ...request, body: { refreshToken: await ctx.refreshToken() } };
    }

    return request;
  }

  it('has a row for every route of the OpenAPI document, and no row for a route that is gone', () => {
    const table = new Set(ROUTES.map((row) => key(row.method, row.path)));
    const missing = [...documented.keys()].filter((route) => !table.has(route));
    const gone = ROUTES.filter((row) => !documented.has(key(row.method, row.path))).map((row) =>
      key(row.method, row.path),
    );

    expect(missing, 'routes without a contract row').toEqual([]);
    expect(gone, 'rows for routes the gateway no longer serves').toEqual([]);
    expect(table.size, 'one row per route').toBe(ROUTES.length);
    expect(documented.size).toBeGreaterThanOrEqual(55);
  });

  it('documents exactly the non-public routes as needing credentials', () => {
    const mismatched = rows
      .filter((row) => documented.get(key(row.method, row.path))?.security !== !row.public)
      .map((row) => `${key(row.method, row.path)} (table: ${row.public ? 'public' : 'authenticated'})`);

    expect(mismatched).toEqual([]);
    for (const row of ROUTES) {
      expect(Boolean(row.public) !== Boolean(row.gate), key(row.method, row.path)).toBe(true);
    }
  });

  it('answers public routes without a token', async () => {
    for (const row of rows.filter((candidate) => candidate.public)) {
      const answer = await call(await requestOf(row));
      expect(row.anonymous, key(row.method, row.path)).toContain(answer.status);
      if (answer.status >= 400) {
        expectEnvelope(answer, answer.status, 'UNAUTHENTICATED', key(row.method, row.path));
      }
    }
  });

  it('refuses every other route with 401 and the error envelope: no token, malformed, forged or expired', async () => {
    const [header, payload, signature] = ctx.tokens.viewer.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, traits: ['admin', 'user_manager'] })).toString('base64url'),
      signature,
    ].join('.');
    const expired = await harness.authority.token({
      kind: 'user',
      id: ctx.viewerId,
      traits: ['admin', 'user_manager', 'viewer'],
      lifetimeSeconds: -120,
    });
    const credentials: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['malformed token', { authorization: 'Bearer not-a-jwt' }],
      ['forged token', { authorization: `Bearer ${forged}` }],
      ['expired token', { authorization: `Bearer ${expired}` }],
      ['unknown API key', { 'x-api-key': 'vvk_not-a-real-key-0123456789' }],
    ];

    let checked = 0;
    for (const row of rows.filter((candidate) => !candidate.public)) {
      const request = await requestOf(row);
      for (const [what, headers] of credentials) {
        const answer = await call({ ...request, headers: { ...request.headers, ...headers } });
        expectEnvelope(answer, 401, 'UNAUTHENTICATED', `${key(row.method, row.path)} with ${what}`);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(45 * credentials.length);
  });

  it('authenticates before it validates: an anonymous invalid request gets 401, not the field errors', async () => {
    let checked = 0;
    for (const row of rows.filter((candidate) => !candidate.public)) {
      for (const invalid of [row.invalid ?? []].flat()) {
        const answer = await call(invalid.request(ctx));
        expectEnvelope(
          answer,
          401,
          'UNAUTHENTICATED',
          `anonymous invalid ${invalid.field} of ${key(row.method, row.path)}`,
        );
        expect(answer.text).not.toContain('"details"');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(30);
  });

  it('refuses principals without the required traits with 403 POLICY_DENIED', async () => {
    let checked = 0;
    for (const row of rows) {
      for (const who of row.gate?.deny ?? []) {
        const answer = await call({ ...(await requestOf(row)), token: ctx.tokens[who] });
        expectEnvelope(answer, 403, 'POLICY_DENIED', `${key(row.method, row.path)} as ${who}`);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('lets the right principal through every gate', async () => {
    for (const row of rows) {
      if (!row.gate) {
        continue;
      }
      const what = `${key(row.method, row.path)} as ${row.gate.allow}`;
      const answer = await call({ ...(await requestOf(row)), token: ctx.tokens[row.gate.allow] });
      expect([401, 403], `${what}: ${answer.text.slice(0, 300)}`).not.toContain(answer.status);
      expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
      if (process.env['ROUTES_TIMING']) {
        console.info(`${what} -> ${answer.status} ${answer.text.slice(0, 160)}`);
      }
      if (row.gate.status !== undefined) {
        expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBe(row.gate.status);
      }
      if (answer.status >= 400) {
        expectEnvelope(answer, answer.status, (answer.body['error'] as { code: string }).code, what);
      }
    }
  });

  it('answers 400 naming the field for every invalid request, which changes nothing', async () => {
    const snapshot = async () => {
      const reads = [
        { path: '/v1/users?limit=200', who: 'admin' as const },
        { path: '/v1/policy/rules', who: 'admin' as const },
        { path: '/v1/plugins', who: 'admin' as const },
        { path: '/v1/api-keys', who: 'viewer' as const },
        { path: '/v1/auth/webauthn/credentials', who: 'viewer' as const },
        { path: `/v1/plugins/${CALLER}/config/history`, who: 'operator' as const },
        { path: '/v1/events/subscriptions', who: 'plugin' as const },
        { path: '/v1/config', who: 'admin' as const },
      ];
      const answers = await Promise.all(
        reads.map(({ path, who }) => call({ method: 'GET', path, token: ctx.tokens[who] })),
      );

      return answers.map((answer) => answer.text);
    };
    const before = await snapshot();

    let checked = 0;
    for (const row of rows) {
      for (const invalid of [row.invalid ?? []].flat()) {
        const what = `invalid ${invalid.field} of ${key(row.method, row.path)}`;
        const answer = await call({ ...invalid.request(ctx), token: ctx.tokens[invalid.who] });
        expectEnvelope(answer, 400, invalid.code ?? 'VALIDATION_FAILED', what);
        const error = answer.body['error'] as {
          message: string;
          reason?: string;
          details?: Array<{ path: string; messages: string[] }>;
        };
        if (invalid.messageOnly) {
          expect(error.message, what).toContain(invalid.field);
          expect(error.reason, what).toEqual(expect.any(String));
          checked += 1;
          continue;
        }
        const field = new RegExp(`^${invalid.field}(?:\\.|$)`);
        const named = (error.details ?? []).some(
          (detail) => field.test(detail.path) && detail.messages.length > 0,
        );
        expect(named, `${what}: ${answer.text}`).toBe(true);
        checked += 1;
      }
    }

    expect(await snapshot()).toEqual(before);
    expect(checked).toBeGreaterThanOrEqual(40);
  });

  it('changes a password with a bearer token for a user, and refuses a plugin with 403', async () => {
    const body = { currentPassword: USER_PASSWORD, newPassword: 'Changed-Contract-Pass-31' };
    const denied = await call({ method: 'POST', path: '/v1/auth/password', token: ctx.tokens.plugin, body });
    expectEnvelope(denied, 403, 'POLICY_DENIED', 'a plugin changing a password');

    const changed = await call({
      method: 'POST',
      path: '/v1/auth/password',
      token: ctx.tokens.passwordUser,
      body,
    });
    expect(changed.status, changed.text).toBe(200);
  });

  it('sends rate-limit headers and limits each principal on its own', async () => {
    const first = await call({ method: 'GET', path: '/v1/events/types', token: ctx.tokens.viewer });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe(String(RATE_LIMIT));
    expect(Number(first.headers.get('x-ratelimit-remaining'))).toBeLessThan(RATE_LIMIT);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);

    let last: HttpAnswer = first;
    for (let attempt = 0; attempt <= RATE_LIMIT && last.status !== 429; attempt += 1) {
      last = await call({ method: 'GET', path: '/v1/events/types', token: ctx.tokens.viewer });
    }
    expectEnvelope(last, 429, 'RATE_LIMITED', 'flood of one principal');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);

    // another principal on the same route and address still has its own allowance
    const other = await call({ method: 'GET', path: '/v1/events/types', token: ctx.tokens.operator });
    expect(other.status).toBe(200);
  });
});
