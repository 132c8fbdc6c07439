import type { InfoReply, ServiceName } from '@vivified/contracts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Answers `vivified.v1.<service>.info.get`: name, version, uptime and which instance answered. */
export class InfoService {
  private readonly started = new Date();
  private readonly instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly service: ServiceName,
    private readonly version: string,
  ) {}

  /** The info reply of this process. */
  get(): InfoReply {
    return {
      name: this.service,
      version: this.version,
      uptimeSeconds: Math.round((Date.now() - this.started.getTime()) / 10) / 100,
      startedAt: this.started.toISOString(),
      instanceId: this.instanceId,
      pid: process.pid,
    };
  }
}
