import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type {
  AdminRuleBody,
  AuditActor,
  FieldError,
  PolicyRulesHistoryReply,
  PolicyRulesHistoryRequest,
  PolicyRulesPutRequest,
  PolicyRulesView,
  SignedPolicyBundleView,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AdminRuleProblem } from '@vivified/policy-engine';
import { canonicalBundleJson, validateAdminRules } from '@vivified/policy-engine';

import { bundleOf, BundleService } from '../bundle/bundle.service';
import { PolicyAudit, rulesTarget } from '../policy-audit';
import type { RuleSetRecord } from './rules.repository';
import { RulesRepository } from './rules.repository';

const DEFAULT_HISTORY_PAGE = 20;

/** Problems of a rule list as field errors, one entry per path with every message for it. */
export function problemsAsDetails(problems: readonly AdminRuleProblem[]): FieldError[] {
  const byPath = new Map<string, string[]>();
  for (const problem of problems) {
    byPath.set(problem.path, [...(byPath.get(problem.path) ?? []), problem.message]);
  }

  return [...byPath].map(([path, messages]) => ({ path, messages }));
}

/**
 * Every problem of a rule list (the engine's validator, plus what PostgreSQL's jsonb cannot store); throws
 * `VALIDATION_FAILED` listing them all. With `now`, break-glass grants must also be current and time-boxed from now.
 */
export function assertValidRules(rules: unknown, now?: number): void {
  const problems = [...validateAdminRules(rules, now === undefined ? {} : { now })];
  if (JSON.stringify(rules).includes('\\u0000')) {
    problems.push({ index: null, path: 'rules', message: 'must not contain NUL characters' });
  }
  if (problems.length > 0) {
    throw new VivifiedError(
      ErrorCode.ValidationFailed,
      `the rules have ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      { reason: 'invalid_rules', details: problemsAsDetails(problems) },
    );
  }
}

function view(record: RuleSetRecord): PolicyRulesView {
  return {
    version: record.version,
    rules: record.rules as AdminRuleBody[],
    ...(record.updatedAt ? { updatedAt: record.updatedAt.toISOString() } : {}),
    ...(record.updatedBy ? { updatedBy: record.updatedBy } : {}),
  };
}

function summary(rules: readonly unknown[]): Record<string, number> {
  const counts: Record<string, number> = { operator: 0, proxy: 0, break_glass: 0 };
  for (const rule of rules) {
    const type = (rule as { type?: string }).type ?? '';
    counts[type] = (counts[type] ?? 0) + 1;
  }

  return counts;
}

/** The admin rules: read, replace (new version, audited, signed and published), history, signed bundle. */
@Injectable()
export class RulesService {
  constructor(
    private readonly repository: RulesRepository,
    private readonly bundles: BundleService,
    private readonly audit: PolicyAudit,
  ) {}

  async get(): Promise<PolicyRulesView> {
    return view(await this.repository.current());
  }

  async history(request: PolicyRulesHistoryRequest): Promise<PolicyRulesHistoryReply> {
    const limit = request.limit ?? DEFAULT_HISTORY_PAGE;
    const rows = await this.repository.history(limit + 1, request.before);
    const page = rows.slice(0, limit);
    const last = page.at(-1);

    return {
      versions: page.map((row) => ({
        version: row.version,
        rules: row.rules as AdminRuleBody[],
        changedBy: row.changedBy,
        changedAt: row.changedAt.toISOString(),
        ...(row.reason === null ? {} : { reason: row.reason }),
      })),
      ...(rows.length > limit && last ? { nextBefore: last.version } : {}),
    };
  }

  /**
   * Replaces the rule set: validated (every problem listed), saved as the next version (`CONFLICT` when
   * `expectedVersion` is stale), audited, then compiled into a bundle of the same version, signed and published.
   */
  async put(
    actor: Pick<AuditActor, 'kind' | 'id'>,
    request: PolicyRulesPutRequest,
  ): Promise<PolicyRulesView> {
    const now = new Date();
    const reason = request.reason ?? null;
    try {
      assertValidRules(request.rules, now.getTime());
    } catch (error) {
      await this.refused(actor, 'invalid_rules', {
        problems: (error as VivifiedError).details?.length ?? 0,
      });
      throw error;
    }
    const outcome = await this.repository.save({
      rules: request.rules,
      changedBy: actor.id,
      changedAt: now,
      reason,
      ...(request.expectedVersion === undefined ? {} : { expectedVersion: request.expectedVersion }),
    });
    if ('conflict' in outcome) {
      await this.refused(actor, 'version_conflict', {
        expectedVersion: request.expectedVersion,
        currentVersion: outcome.current.version,
      });
      throw new VivifiedError(
        ErrorCode.Conflict,
        `the rules are at version ${outcome.current.version}, not ${String(request.expectedVersion)}`,
        { reason: 'version_conflict' },
      );
    }
    const { saved, previous } = outcome;
    await this.audit.record({
      action: 'rules.update',
      outcome: 'success',
      actor,
      target: rulesTarget,
      details: {
        version: saved.version,
        previousVersion: previous.version,
        changeReason: reason,
        ruleCounts: summary(saved.rules),
        previousRuleCounts: summary(previous.rules),
        rulesDigest: createHash('sha256')
          .update(canonicalBundleJson(bundleOf(saved)))
          .digest('hex'),
      },
    });
    await this.bundles.publishSaved(saved);

    return view(saved);
  }

  /** The current rule set's bundle, signed (deterministic: Ed25519 over the canonical JSON). */
  async signedBundle(): Promise<SignedPolicyBundleView> {
    const signed = this.bundles.sign(bundleOf(await this.repository.current()));

    return {
      format: signed.format,
      bundle: {
        version: signed.bundle.version,
        createdAt: signed.bundle.createdAt,
        rules: signed.bundle.rules as AdminRuleBody[],
      },
      keyId: signed.keyId,
      signature: signed.signature,
    };
  }

  private async refused(
    actor: Pick<AuditActor, 'kind' | 'id'>,
    reason: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      action: 'rules.update',
      outcome: 'failure',
      actor,
      target: rulesTarget,
      details: { reason, ...details },
    });
  }
}
