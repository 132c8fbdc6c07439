import type { ConfigOf } from '@vivified/service-kit';
import { env } from '@vivified/service-kit';

/** HIPAA's six years (45 CFR 164.316(b)(2)): the shortest retention a production deployment may set. */
export const MIN_PRODUCTION_RETENTION_DAYS = 6 * 365;

/** The audit service's own settings, besides the common ones. */
export const auditConfigSchema = {
  retentionDays: env.int('VIVIFIED_AUDIT_RETENTION_DAYS', {
    default: 2555,
    min: 1,
    description:
      'Days a stored month partition is kept after its last day (HIPAA: at least 6 years; production refuses less)',
  }),
  production: env.bool('VIVIFIED_PRODUCTION', {
    default: false,
    description: 'Production mode: a retention shorter than six years is refused at start',
  }),
  batchSize: env.int('VIVIFIED_AUDIT_BATCH_SIZE', {
    default: 2000,
    min: 1,
    max: 10_000,
    description: 'Records stored per transaction at most',
  }),
  checkpointEvery: env.int('VIVIFIED_AUDIT_CHECKPOINT_RECORDS', {
    default: 10_000,
    min: 1,
    description: 'A signed checkpoint after this many records',
  }),
  checkpointIntervalSeconds: env.int('VIVIFIED_AUDIT_CHECKPOINT_SECONDS', {
    default: 60,
    min: 1,
    description: 'A signed checkpoint at least this often while records arrive',
  }),
  maintenanceIntervalSeconds: env.int('VIVIFIED_AUDIT_MAINTENANCE_SECONDS', {
    default: 3600,
    min: 1,
    description: 'How often partitions are created ahead and expired ones dropped',
  }),
} as const;

/** The audit service's config. */
export type AuditConfig = ConfigOf<typeof auditConfigSchema>;

/** Why this config may not run, or undefined: production refuses a retention shorter than HIPAA's six years. */
export function retentionProblem(
  config: Pick<AuditConfig, 'retentionDays' | 'production'>,
): string | undefined {
  return config.production && config.retentionDays < MIN_PRODUCTION_RETENTION_DAYS
    ? `VIVIFIED_AUDIT_RETENTION_DAYS=${config.retentionDays} is shorter than the ${MIN_PRODUCTION_RETENTION_DAYS} days ` +
        'HIPAA requires (45 CFR 164.316(b)(2)); production refuses it'
    : undefined;
}
