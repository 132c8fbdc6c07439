export { AuditEmitter } from './audit-emitter';
export type { AuditEmitterOptions, AuditInput, AuditLogger } from './audit-emitter';
export {
  ConfigError,
  baseConfigSchema,
  defaultOpsPorts,
  env,
  exitOnConfigError,
  logLevels,
  opsPortEnv,
  parseConfig,
  parseConfigOrExit,
  redactConfig,
} from './config';
export type {
  BaseConfig,
  BaseConfigSchema,
  ConfigField,
  ConfigIssue,
  ConfigOf,
  ConfigSchema,
  Environment,
  ExitIo,
  FieldOptions,
  FieldResult,
  FieldValue,
  LogLevel,
  UrlOptions,
} from './config';
export {
  MigrationError,
  RetryAbortedError,
  connectWithRetry,
  createPool,
  describeDatabaseUrl,
  ensureDatabase,
  postgresReadinessCheck,
  readMigrations,
  runMigrations,
  scrubCredentials,
  withTransaction,
} from './database';
export type {
  CreatePoolOptions,
  DatabaseLogger,
  Migration,
  MigrationOptions,
  RetryOptions,
} from './database';
export { NestLoggerAdapter, createLogger, redactPaths } from './logger';
export type { CreateLoggerOptions, ServiceLogger } from './logger';
export { METRIC_PREFIX, ServiceMetrics, handlerDurationBuckets, policyDecisionBuckets } from './metrics';
export type { AuditEmitOutcome, HandledEvent, HandlerObserver, ServiceMetricsOptions } from './metrics';
export { NatsConnectionMonitor } from './nats-health';
export type { ConnectionState, NatsMonitorLogger, NatsMonitorOptions } from './nats-health';
export { OpsServer, startOpsServer } from './ops-server';
export type { CheckResult, HealthReport, OpsLogger, OpsServerOptions, ReadinessCheck } from './ops-server';
export {
  MASK,
  isPhiKey,
  isSecretKey,
  isSensitiveKey,
  maskSensitive,
  sanitizeDetails,
} from './sensitive-data';
export type { SanitizeLimits } from './sensitive-data';
export {
  AUDIT_EMITTER,
  KEK_PROVIDER,
  METRICS,
  PG_POOL,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  ServiceKitModule,
} from './service-kit.module';
export type { ServiceRuntime } from './service-kit.module';
export { NATS_CONNECTION, bootstrapService } from './bootstrap';
export type { BootstrapOptions, HttpOptions, RunningService } from './bootstrap';
export { InfoService } from './info.service';
