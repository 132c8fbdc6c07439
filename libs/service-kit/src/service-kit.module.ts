import type { DynamicModule, ValueProvider } from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import { JwksKeyStore, ServiceTokenProvider, TokenVerifier } from '@vivified/auth';
import type { ServiceName } from '@vivified/contracts';
import type { KekProvider } from '@vivified/crypto';
import { EnvelopeCipher } from '@vivified/crypto';
import { PolicySidecar } from '@vivified/policy-sidecar';
import type { Pool } from 'pg';

import { AuditEmitter } from './audit-emitter';
import type { ServiceLogger } from './logger';
import { ServiceMetrics } from './metrics';

/** Injection token of the parsed service config (`@Inject(SERVICE_CONFIG) config: IdentityConfig`). */
export const SERVICE_CONFIG = 'vivified.service-kit.config';
/** Injection token of the service's `pg` pool; absent in services without a database (gateway). */
export const PG_POOL = 'vivified.service-kit.pg-pool';
/** Injection token of the {@link AuditEmitter} (the class itself is also a token). */
export const AUDIT_EMITTER = 'vivified.service-kit.audit-emitter';
/** Injection token of the pino {@link ServiceLogger}. */
export const SERVICE_LOGGER = 'vivified.service-kit.logger';
/** Injection token of the {@link ServiceMetrics} (the class itself is also a token). */
export const METRICS = 'vivified.service-kit.metrics';
/** Injection token of the deployment's `KekProvider` (`VIVIFIED_KEK` or `VIVIFIED_KEK_FILE`). */
export const KEK_PROVIDER = 'vivified.service-kit.kek-provider';

/** What the bootstrap built before Nest starts, handed to {@link ServiceKitModule.forRoot}. */
export interface ServiceRuntime<C = unknown> {
  /** The service's name. */
  service: ServiceName;
  /** The parsed config. */
  config: C;
  /** The JSON logger. */
  logger: ServiceLogger;
  /** The process's metrics. */
  metrics: ServiceMetrics;
  /** The audit emitter. */
  auditEmitter: AuditEmitter;
  /** The database pool, when the service owns data. */
  pool?: Pool;
  /** The live copy of identity's public signing keys. */
  keyStore?: JwksKeyStore;
  /** Verifies bearer tokens against {@link keyStore} (the gateway authenticates HTTP with it). */
  verifier?: TokenVerifier;
  /** The policy guard of every non-public handler (services register lane input enrichers on it). */
  policySidecar?: PolicySidecar;
  /** The service's own token, when `VIVIFIED_SERVICE_SECRET` is set. */
  tokenProvider?: ServiceTokenProvider;
  /** Where key-encryption keys come from. */
  kekProvider?: KekProvider;
  /** Envelope encryption under {@link kekProvider}. */
  cipher?: EnvelopeCipher;
}

/**
 * Makes the runtime the bootstrap built injectable everywhere: `ServiceKitModule.forRoot(runtime)` in the
 * app module's imports. It only provides the values; the bootstrap that created them closes them at shutdown.
 */
@Global()
@Module({})
export class ServiceKitModule {
  /**
   * A global module providing {@link SERVICE_CONFIG}, {@link SERVICE_LOGGER}, {@link METRICS},
   * {@link AUDIT_EMITTER} and, when given, {@link PG_POOL}, {@link KEK_PROVIDER}, and by class `EnvelopeCipher`,
   * `JwksKeyStore`, `TokenVerifier`, `PolicySidecar` and `ServiceTokenProvider`.
   */
  static forRoot<C>(runtime: ServiceRuntime<C>): DynamicModule {
    const providers: ValueProvider[] = [
      { provide: SERVICE_CONFIG, useValue: runtime.config },
      { provide: SERVICE_LOGGER, useValue: runtime.logger },
      { provide: METRICS, useValue: runtime.metrics },
      { provide: ServiceMetrics, useValue: runtime.metrics },
      { provide: AUDIT_EMITTER, useValue: runtime.auditEmitter },
      { provide: AuditEmitter, useValue: runtime.auditEmitter },
      ...(runtime.pool ? [{ provide: PG_POOL, useValue: runtime.pool }] : []),
      ...(runtime.keyStore ? [{ provide: JwksKeyStore, useValue: runtime.keyStore }] : []),
      ...(runtime.verifier ? [{ provide: TokenVerifier, useValue: runtime.verifier }] : []),
      ...(runtime.policySidecar ? [{ provide: PolicySidecar, useValue: runtime.policySidecar }] : []),
      ...(runtime.tokenProvider ? [{ provide: ServiceTokenProvider, useValue: runtime.tokenProvider }] : []),
      ...(runtime.kekProvider ? [{ provide: KEK_PROVIDER, useValue: runtime.kekProvider }] : []),
      ...(runtime.cipher ? [{ provide: EnvelopeCipher, useValue: runtime.cipher }] : []),
    ];

    return {
      module: ServiceKitModule,
      global: true,
      providers,
      exports: providers.map((provider) => provider.provide),
    };
  }
}
