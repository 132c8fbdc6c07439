import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigCatalog, PlatformConfigEntry } from '@vivified/contracts';
import { canonicalJson, ErrorCode, VivifiedError } from '@vivified/contracts';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_LOGGER } from '@vivified/service-kit';

import { ConfigBucketClient, ConfigWriteConflict } from './config-bucket.client';
import { ConfigMetrics } from './config-metrics';
import { CONFIG_CATALOG, publishedEntry } from './config-view';
import { ConfigRepository } from './config.repository';

/** What a publication did. */
export type ConfigPublishOutcome = 'published' | 'unchanged' | 'newer_in_bucket';

/** Compare-and-swap rounds before a publication gives up (another writer kept winning). */
const PUBLISH_ATTEMPTS = 5;
/** Background republication after a failure: first and largest delay. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Publishes the effective non-sensitive config to `vivified_config` (key `platform`) so services can watch it:
 * at start (defaults included, so a watcher sees every key from the first start) and after every change. A
 * compare-and-swap that never replaces a newer version; a failed publication is retried in the background.
 */
@Injectable()
export class ConfigPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private retry: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_FIRST_MS;
  private stopped = false;

  constructor(
    @Inject(CONFIG_CATALOG) private readonly catalog: ConfigCatalog,
    private readonly repository: ConfigRepository,
    private readonly bucket: ConfigBucketClient,
    private readonly metrics: ConfigMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.publishCurrent().catch((error: unknown) => {
      this.logger.error({ err: error }, 'platform config not published at start; retrying');
      this.scheduleRetry();
    });
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  /**
   * Publishes a just-saved config. When the bucket cannot be written, it is retried in the background and the
   * caller gets `UNAVAILABLE config_not_published` (the change itself is saved).
   */
  async publishSaved(entry: PlatformConfigEntry): Promise<void> {
    try {
      await this.publish(entry);
    } catch (error) {
      this.logger.error({ err: error, version: entry.version }, 'platform config not published; retrying');
      this.scheduleRetry();
      throw new VivifiedError(
        ErrorCode.Unavailable,
        `config saved as version ${entry.version}, but not published yet; it is retried`,
        { reason: 'config_not_published', cause: error },
      );
    }
  }

  /** Publishes the current config as stored. */
  async publishCurrent(): Promise<ConfigPublishOutcome> {
    return this.publish(publishedEntry(this.catalog, await this.repository.current()));
  }

  private async publish(entry: PlatformConfigEntry): Promise<ConfigPublishOutcome> {
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt += 1) {
      const held = await this.bucket.read();
      if (held?.value && held.value.version > entry.version) {
        return 'newer_in_bucket';
      }
      if (held?.value && canonicalJson(held.value) === canonicalJson(entry)) {
        this.metrics.published(entry.version);

        return 'unchanged';
      }
      try {
        await this.bucket.write(entry, held);
        this.metrics.published(entry.version);
        this.logger.info({ version: entry.version }, 'platform config published');

        return 'published';
      } catch (error) {
        if (!(error instanceof ConfigWriteConflict)) {
          throw error;
        }
      }
    }
    throw new VivifiedError(ErrorCode.Unavailable, 'the published config kept changing', {
      reason: 'config_publish_contended',
    });
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry !== undefined) {
      return;
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.publishCurrent().then(
        () => {
          this.retryDelay = RETRY_FIRST_MS;
        },
        (error: unknown) => {
          this.logger.error({ err: error }, 'platform config still not published; retrying');
          this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
          this.scheduleRetry();
        },
      );
    }, this.retryDelay);
    this.retry.unref();
  }
}
