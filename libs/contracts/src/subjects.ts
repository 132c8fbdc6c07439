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
  },
  policy: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.policy.info.get',
  },
  registry: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.registry.info.get',
    /** Plugin heartbeats. */
    heartbeat: 'vivified.v1.registry.heartbeat',
  },
  audit: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.audit.info.get',
  },
  gateway: {
    /** Service name, version and uptime. Public. */
    info: 'vivified.v1.gateway.info.get',
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
  },
  /** Dead letters of the canonical lane, bound by stream VIVIFIED_DLQ. */
  deadLetters: {
    all: 'vivified.dlq.>',
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
  /** A plugin's own inbox prefix. */
  pluginInboxPrefix: (pluginId: string): string => `_INBOX_${subjectToken('plugin id', pluginId)}`,
  /** Audit records of one category. */
  auditRecord: (category: string): string => `vivified.audit.${subjectToken('audit category', category)}`,
  /** A dead letter for one subscription. */
  deadLetter: (subscriptionId: string): string =>
    `vivified.dlq.${subjectToken('subscription id', subscriptionId)}`,
} as const;
