/**
 * Every NATS subject of the platform (ARCHITECTURE §3). No subject string may appear anywhere else.
 *
 * DO NOT CHANGE THE VALUES: they are the wire contract that plugins, SDKs and NATS permissions rely on.
 * A breaking change gets a new version token (`vivified.v2…`) and an ADR (see ADR-0002).
 */

/** The six core services, as they appear in subjects, metrics and logs. */
export const serviceNames = ['identity', 'policy', 'registry', 'audit', 'gateway', 'event-router'] as const;

/** Name of one core service. */
export type ServiceName = (typeof serviceNames)[number];

/** A NATS subject token we accept from callers: no separators, wildcards or whitespace. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Error thrown when a dynamic subject part would change the subject's shape. */
export class SubjectTokenError extends Error {
  constructor(
    readonly part: string,
    readonly value: string,
  ) {
    super(`invalid ${part} for a subject: ${JSON.stringify(value)}`);
    this.name = 'SubjectTokenError';
  }
}

/** Checks one subject token (a plugin id, an operation name) and returns it unchanged. */
export function subjectToken(part: string, value: string): string {
  if (!TOKEN.test(value)) {
    throw new SubjectTokenError(part, value);
  }

  return value;
}

/** Checks a dotted event type (`UserCreated`, `acme.invoice.paid`) and returns it unchanged. */
export function eventTypeTokens(value: string): string {
  if (value.length > 200 || !value.split('.').every((token) => TOKEN.test(token))) {
    throw new SubjectTokenError('event type', value);
  }

  return value;
}

/** Core request/reply subjects, `vivified.v1.<service>.<entity>.<action>`. */
export const subjects = {
  identity: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.identity.info.get',
    auth: {
      /** Password login (+ TOTP or backup code). Public. */
      login: 'vivified.v1.identity.auth.login',
      /** Rotates a refresh token into new tokens. Public. */
      refresh: 'vivified.v1.identity.auth.refresh',
      /** Revokes the session of a refresh token. Public. */
      logout: 'vivified.v1.identity.auth.logout',
      /** Ends every session of the caller and revokes every access token it holds (log out everywhere). */
      logoutAll: 'vivified.v1.identity.auth.logout-all',
      /** The caller's own profile. */
      me: 'vivified.v1.identity.auth.me',
      /** Changes the caller's own password (and clears a one-time password's must-change flag). */
      changePassword: 'vivified.v1.identity.auth.change-password',
      /** Sets the new password a login required, with its password-change token. Public. */
      requiredPasswordChange: 'vivified.v1.identity.auth.required-password-change',
    },
    mfa: {
      /** Starts TOTP enrolment (enrolment token or the caller's own access token). */
      totpSetup: 'vivified.v1.identity.mfa.totp-setup',
      /** Confirms TOTP enrolment with a first code; answers tokens and backup codes. */
      totpEnable: 'vivified.v1.identity.mfa.totp-enable',
      /** Turns TOTP off for the caller (not for roles that require MFA). */
      totpDisable: 'vivified.v1.identity.mfa.totp-disable',
      /** Replaces the caller's backup codes with 10 new ones. */
      backupCodes: 'vivified.v1.identity.mfa.backup-codes',
    },
    webauthn: {
      /** Registration options for a new passkey of the caller. */
      registerOptions: 'vivified.v1.identity.webauthn.register-options',
      /** Verifies a registration response and stores the passkey. */
      registerVerify: 'vivified.v1.identity.webauthn.register-verify',
      /** Authentication options for a passkey login. Public. */
      loginOptions: 'vivified.v1.identity.webauthn.login-options',
      /** Verifies an assertion and answers tokens. Public. */
      loginVerify: 'vivified.v1.identity.webauthn.login-verify',
      /** The caller's passkeys. */
      listCredentials: 'vivified.v1.identity.webauthn.credential-list',
      /** Removes one of the caller's passkeys. */
      removeCredential: 'vivified.v1.identity.webauthn.credential-remove',
    },
    users: {
      list: 'vivified.v1.identity.user.list',
      get: 'vivified.v1.identity.user.get',
      create: 'vivified.v1.identity.user.create',
      update: 'vivified.v1.identity.user.update',
      /** Replaces a user's roles (admins assign roles, never raw traits). */
      setRoles: 'vivified.v1.identity.user.set-roles',
      /** Lifts a lockout. */
      unlock: 'vivified.v1.identity.user.unlock',
      /** MFA coverage of PHI users and admins (counts, ids without MFA). Core services, auditors, admins. */
      mfaCoverage: 'vivified.v1.identity.user.mfa-coverage',
      /** Sets another user's one-time password (must change at next login). */
      passwordReset: 'vivified.v1.identity.user.password-reset',
      /** Removes another user's TOTP, backup codes and optionally passkeys. */
      mfaReset: 'vivified.v1.identity.user.mfa-reset',
    },
    roles: {
      list: 'vivified.v1.identity.role.list',
    },
    tokens: {
      /** Exchanges a plugin id + client secret for a plugin JWT. Public. */
      plugin: 'vivified.v1.identity.token.plugin',
      /** Exchanges a core service secret for a service JWT. Public. */
      service: 'vivified.v1.identity.token.service',
      /** Exchanges an API key for a short-lived access token. Public. */
      apiKey: 'vivified.v1.identity.token.api-key',
    },
    keys: {
      /** The public signing keys (JWKS). Public. */
      jwks: 'vivified.v1.identity.key.jwks',
      /** Makes a new signing key current; old keys verify until their tokens expire. */
      rotate: 'vivified.v1.identity.key.rotate',
    },
    pluginCredentials: {
      /** Creates (or replaces) a plugin's client secret; answered once. Core services only. */
      issue: 'vivified.v1.identity.plugin-credential.issue',
      /** Revokes a plugin's client secret. Core services only. */
      revoke: 'vivified.v1.identity.plugin-credential.revoke',
    },
    apiKeys: {
      create: 'vivified.v1.identity.api-key.create',
      list: 'vivified.v1.identity.api-key.list',
      revoke: 'vivified.v1.identity.api-key.revoke',
    },
  },
  policy: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.policy.info.get',
    decision: {
      /** A §5 decision from the current bundle, for core services. */
      decide: 'vivified.v1.policy.decision.decide',
      /** A what-if decision with the full rule trail, optionally against a draft rule set. */
      simulate: 'vivified.v1.policy.decision.simulate',
    },
    rules: {
      /** The current admin rules and their version. */
      get: 'vivified.v1.policy.rules.get',
      /** Replaces the admin rules (a new version, compiled, signed and published). */
      put: 'vivified.v1.policy.rules.put',
      /** Earlier versions of the admin rules, newest first. */
      history: 'vivified.v1.policy.rules.history',
    },
    traits: {
      /** The trait vocabulary. */
      list: 'vivified.v1.policy.traits.list',
    },
    bundle: {
      /** The current signed bundle, as published to KV. */
      get: 'vivified.v1.policy.bundle.get',
    },
    config: {
      /** The platform config (every catalog key, secrets masked). */
      get: 'vivified.v1.policy.config.get',
      /** Sets or resets config keys (a new version, published to the vivified_config bucket). */
      put: 'vivified.v1.policy.config.put',
      /** Earlier versions of the config, newest first. */
      history: 'vivified.v1.policy.config.history',
    },
  },
  registry: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.registry.info.get',
    /** Plugin heartbeats. */
    heartbeat: 'vivified.v1.registry.heartbeat',
    plugins: {
      /** Registers (or upgrades) a plugin from its manifest. */
      register: 'vivified.v1.registry.plugin.register',
      /** Registers a plugin with a one-time registration token. Public. */
      registerWithToken: 'vivified.v1.registry.plugin.register-with-token',
      /** Dry run of a registration. */
      validate: 'vivified.v1.registry.plugin.validate',
      list: 'vivified.v1.registry.plugin.list',
      get: 'vivified.v1.registry.plugin.get',
      approve: 'vivified.v1.registry.plugin.approve',
      enable: 'vivified.v1.registry.plugin.enable',
      disable: 'vivified.v1.registry.plugin.disable',
      /** Revokes and removes a plugin. */
      delete: 'vivified.v1.registry.plugin.delete',
      /** An active plugin renews its own NATS user credentials before they expire. */
      natsCredentials: 'vivified.v1.registry.plugin.nats-credentials',
      config: {
        get: 'vivified.v1.registry.plugin-config.get',
        put: 'vivified.v1.registry.plugin-config.put',
        history: 'vivified.v1.registry.plugin-config.history',
        /** A plugin reads its own config. */
        self: 'vivified.v1.registry.plugin-config.self',
      },
    },
    registrationTokens: {
      /** Creates a one-time registration token (admins). */
      create: 'vivified.v1.registry.registration-token.create',
    },
  },
  audit: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.audit.info.get',
    records: {
      /** A page of audit records with filters. */
      query: 'vivified.v1.audit.record.query',
      /** One page of an export. */
      export: 'vivified.v1.audit.record.export',
      /** Verifies the hash chain and checkpoints. */
      verify: 'vivified.v1.audit.record.verify',
    },
    compliance: {
      /** HIPAA 164.312 evidence. */
      report: 'vivified.v1.audit.compliance.report',
    },
  },
  gateway: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.gateway.info.get',
    /** The public keys that verify operator-lane call tokens. Public. */
    callKey: 'vivified.v1.gateway.call-key.get',
  },
  eventRouter: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.event-router.info.get',
  },
  events: {
    /** Every canonical-lane publish request (a plugin's NATS permission). */
    publishAll: 'vivified.v1.events.publish.>',
    /** Subscribe the caller to event types. */
    subscribe: 'vivified.v1.events.subscribe',
    /** Unsubscribe the caller from event types. */
    unsubscribe: 'vivified.v1.events.unsubscribe',
    /** The caller's own subscriptions. */
    subscriptions: 'vivified.v1.events.subscription.list',
    /** Lifts the quarantine of a subscription (admin). */
    subscriptionResume: 'vivified.v1.events.subscription.resume',
    /** The schema registry's event types. */
    types: 'vivified.v1.events.type.list',
    /** Registers a version of a namespaced plugin event type (admin). */
    registerType: 'vivified.v1.events.type.register',
    /** Delivers a subscription's dead letters again (admin). */
    deadLetterReplay: 'vivified.v1.events.dead-letter.replay',
    /** The calling HTTP plugin's webhook signing secret. */
    webhookSecret: 'vivified.v1.events.webhook-secret.get',
  },
  rpc: {
    /** Every operator-lane call (a plugin's NATS permission). */
    all: 'vivified.v1.rpc.>',
  },
  proxy: {
    /** Proxy-lane egress request. */
    request: 'vivified.v1.proxy.request',
  },
  /** Stored canonical events, bound by stream VIVIFIED_EVENTS. Only the event-router writes here. */
  storedEvents: {
    all: 'vivified.events.>',
  },
  /** Audit records, bound by stream VIVIFIED_AUDIT. */
  auditRecords: {
    all: 'vivified.audit.>',
    /** Several records in one message (`{"records":[…]}`), sent by an emitter under load (ADR-0007). */
    batch: 'vivified.audit.batch',
  },
  /** Dead letters of the canonical lane, bound by stream VIVIFIED_DLQ. */
  deadLetters: {
    all: 'vivified.dlq.>',
  },
  /**
   * The NATS server's own system-account API (production mode, docs/nats-auth.md): the registry pushes account
   * JWTs that revoke disabled plugins' users. Not a Vivified subject; never in a plugin's permissions.
   */
  natsSystem: {
    /** Stores an account JWT signed by the operator on every server of the full resolver. */
    claimsUpdate: '$SYS.REQ.CLAIMS.UPDATE',
  },
} as const;

/** The info subject of every service, keyed by service name. */
export const infoSubjects: Readonly<Record<ServiceName, string>> = {
  identity: subjects.identity.info,
  policy: subjects.policy.info,
  registry: subjects.registry.info,
  audit: subjects.audit.info,
  gateway: subjects.gateway.info,
  'event-router': subjects.eventRouter.info,
};

/** Subjects built from a caller-supplied part; every part is checked so it cannot widen the subject. */
export const dynamicSubjects = {
  /** Canonical-lane publish request for one event type. */
  publishEvent: (eventType: string): string => `vivified.v1.events.publish.${eventTypeTokens(eventType)}`,
  /** Where a stored event of this type lives in VIVIFIED_EVENTS. */
  storedEvent: (eventType: string): string => `vivified.events.${eventTypeTokens(eventType)}`,
  /** Operator-lane call as the caller sends it. */
  rpcCall: (targetPluginId: string, operation: string): string =>
    `vivified.v1.rpc.${subjectToken('plugin id', targetPluginId)}.${subjectToken('operation', operation)}`,
  /** Operator-lane call as the core forwards it to the target plugin. */
  pluginRpc: (pluginId: string, operation: string): string =>
    `vivified.v1.plugin.${subjectToken('plugin id', pluginId)}.rpc.${subjectToken('operation', operation)}`,
  /** Canonical-lane delivery to one plugin. */
  pluginDeliver: (pluginId: string): string =>
    `vivified.v1.plugin.${subjectToken('plugin id', pluginId)}.deliver`,
  /** Everything a plugin may subscribe to. */
  pluginAll: (pluginId: string): string => `vivified.v1.plugin.${subjectToken('plugin id', pluginId)}.>`,
  /** Lifecycle messages the registry sends a plugin (disabled, revoked, …). */
  pluginLifecycle: (pluginId: string): string =>
    `vivified.v1.plugin.${subjectToken('plugin id', pluginId)}.lifecycle`,
  /** Every reply subject under one inbox (`<inbox>.*`): a request multiplexer's one subscription. */
  inboxReplies: (inbox: string): string => `${inbox}.*`,
  /** JetStream's advisories about one stream (`CREATED`, `DELETED`, `UPDATED`; a KV bucket is `KV_<bucket>`). */
  streamAdvisories: (stream: string): string =>
    `$JS.EVENT.ADVISORY.STREAM.*.${subjectToken('stream name', stream)}`,
  /** A plugin's own inbox prefix. */
  pluginInboxPrefix: (pluginId: string): string => `_INBOX_${subjectToken('plugin id', pluginId)}`,
  /** The NATS server's answer with an account's current JWT (system account only, production mode). */
  accountClaimsLookup: (accountPublicKey: string): string =>
    `$SYS.REQ.ACCOUNT.${subjectToken('account public key', accountPublicKey)}.CLAIMS.LOOKUP`,
  /** Audit records of one category. */
  auditRecord: (category: string): string => `vivified.audit.${subjectToken('audit category', category)}`,
  /** A dead letter for one subscription. */
  deadLetter: (subscriptionId: string): string =>
    `vivified.dlq.${subjectToken('subscription id', subscriptionId)}`,
} as const;
