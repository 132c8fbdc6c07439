import { Inject, Injectable } from '@nestjs/common';
import type {
  AuditActor,
  ConfigCatalog,
  ConfigChangeView,
  ConfigHistoryReply,
  ConfigHistoryRequest,
  ConfigPutRequest,
  ConfigView,
} from '@vivified/contracts';
import { configChangeProblems, ErrorCode, VivifiedError } from '@vivified/contracts';
import { EnvelopeCipher } from '@vivified/crypto';

import { ConfigAudit } from './config-audit';
import { ConfigMetrics } from './config-metrics';
import { ConfigPublisher } from './config-publisher';
import { CONFIG_CATALOG, configAad, configView, publishedEntry, shownValue } from './config-view';
import type { ChangeRecord, KeyChange } from './config.repository';
import { ConfigRepository } from './config.repository';

const DEFAULT_HISTORY_PAGE = 20;

/**
 * The platform config: typed keys from a catalog, a new version per change (who, when, why; `CONFLICT` when
 * `expectedVersion` is stale), sensitive values sealed and never answered, every change audited (keys only for
 * secrets) and the effective non-sensitive values published to `vivified_config`.
 */
@Injectable()
export class ConfigService {
  constructor(
    @Inject(CONFIG_CATALOG) private readonly catalog: ConfigCatalog,
    private readonly repository: ConfigRepository,
    private readonly publisher: ConfigPublisher,
    private readonly cipher: EnvelopeCipher,
    private readonly audit: ConfigAudit,
    private readonly metrics: ConfigMetrics,
  ) {}

  async get(): Promise<ConfigView> {
    return configView(this.catalog, await this.repository.current());
  }

  async history(request: ConfigHistoryRequest): Promise<ConfigHistoryReply> {
    const limit = request.limit ?? DEFAULT_HISTORY_PAGE;
    const rows = await this.repository.history(limit + 1, request.before);
    const page = rows.slice(0, limit);
    const last = page.at(-1);

    return {
      versions: page.map((row) => ({
        version: row.version,
        changedBy: row.changedBy,
        changedAt: row.changedAt.toISOString(),
        ...(row.reason === null ? {} : { reason: row.reason }),
        changes: row.changes.map((change) => this.changeView(change)),
      })),
      ...(rows.length > limit && last ? { nextBefore: last.version } : {}),
    };
  }

  async put(actor: Pick<AuditActor, 'kind' | 'id'>, request: ConfigPutRequest): Promise<ConfigView> {
    const problems = configChangeProblems(this.catalog, request.values);
    if (problems.length > 0) {
      this.metrics.update('invalid');
      await this.audit.record('config.update', 'failure', actor, {
        reason: 'invalid_config',
        keys: problems.map((problem) => problem.path.replace(/^values\.?/, '')).filter(Boolean),
      });
      throw new VivifiedError(
        ErrorCode.ValidationFailed,
        `the change has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
        { reason: 'invalid_config', details: problems },
      );
    }
    const keys: KeyChange[] = [];
    for (const key of Object.keys(request.values).sort()) {
      keys.push({ key, next: await this.stored(key, request.values[key] ?? null) });
    }
    const reason = request.reason ?? null;
    const outcome = await this.repository.save({
      keys,
      changedBy: actor.id,
      changedAt: new Date(),
      reason,
      ...(request.expectedVersion === undefined ? {} : { expectedVersion: request.expectedVersion }),
    });
    if ('conflict' in outcome) {
      this.metrics.update('conflict');
      await this.audit.record('config.update', 'failure', actor, {
        reason: 'version_conflict',
        expectedVersion: request.expectedVersion,
        currentVersion: outcome.current.version,
      });
      throw new VivifiedError(
        ErrorCode.Conflict,
        `the config is at version ${outcome.current.version}, not ${String(request.expectedVersion)}`,
        { reason: 'version_conflict' },
      );
    }
    const { saved, previous, changes } = outcome;
    this.metrics.update('saved');
    const views = changes.map((change) => this.changeView(change));
    await this.audit.record('config.update', 'success', actor, {
      version: saved.version,
      previousVersion: previous.version,
      changeReason: reason,
      keys: views.map((view) => view.key),
      // a secret's key is named, its values never
      changes: views.filter((view) => !view.sensitive).map(({ key, from, to }) => ({ key, from, to })),
    });
    await this.publisher.publishSaved(publishedEntry(this.catalog, saved));

    return configView(this.catalog, saved);
  }

  /** How a value is stored: plain, sealed for a sensitive key, undefined for back to the default. */
  private async stored(key: string, value: unknown): Promise<KeyChange['next']> {
    if (value === null) {
      return undefined;
    }
    if (this.catalog[key]?.sensitive === true) {
      return { value: null, sealed: await this.cipher.encrypt(JSON.stringify(value), configAad(key)) };
    }

    return { value, sealed: null };
  }

  private changeView(change: ChangeRecord): ConfigChangeView {
    const from = shownValue(change.from);
    const to = shownValue(change.to);
    const sealed = change.from?.sealed != null || change.to?.sealed != null;

    return {
      key: change.key,
      sensitive: sealed || this.catalog[change.key]?.sensitive === true,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    };
  }
}
