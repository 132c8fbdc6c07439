import type { NatsConnection } from 'nats';
import { Events } from 'nats';

import type { ServiceMetrics } from './metrics';
import type { ReadinessCheck } from './ops-server';

/** The subset of the logger the monitor uses. */
export interface NatsMonitorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options of {@link NatsConnectionMonitor}. */
export interface NatsMonitorOptions {
  /** `vivified_nats_connected` follows the connection. */
  metrics?: ServiceMetrics;
  /** Disconnects, reconnects, lame-duck notices and async errors are logged here. */
  logger?: NatsMonitorLogger;
}

/** What the audit emitter and readiness need to know about the NATS link. */
export interface ConnectionState {
  /** Whether the client is connected right now. */
  isConnected(): boolean;
  /** Calls `listener` on every change; returns a function that removes it. */
  onChange(listener: (connected: boolean) => void): () => void;
}

/**
 * Follows a NATS connection's status events: keeps `vivified_nats_connected` current, logs transitions, offers
 * a readiness check, and tells listeners (the audit emitter flushes its buffer on reconnect).
 */
export class NatsConnectionMonitor implements ConnectionState {
  private connected: boolean;
  private readonly listeners = new Set<(connected: boolean) => void>();

  constructor(
    private readonly nc: Pick<NatsConnection, 'status' | 'closed' | 'isClosed'>,
    private readonly options: NatsMonitorOptions = {},
  ) {
    this.connected = !nc.isClosed();
    options.metrics?.setNatsConnected(this.connected);
    void this.follow();
    void nc.closed().then(() => this.set(false));
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  onChange(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);

    return () => this.listeners.delete(listener);
  }

  /** A readiness check: ok while connected. */
  readinessCheck(): ReadinessCheck {
    return () => Promise.resolve(this.isConnected() ? { ok: true } : { ok: false, detail: 'disconnected' });
  }

  private set(connected: boolean): void {
    if (connected === this.connected) {
      return;
    }
    this.connected = connected;
    this.options.metrics?.setNatsConnected(connected);
    for (const listener of this.listeners) {
      listener(connected);
    }
  }

  private async follow(): Promise<void> {
    for await (const status of this.nc.status()) {
      const server = typeof status.data === 'string' ? status.data : undefined;
      if (status.type === Events.Disconnect) {
        this.options.logger?.warn({ server }, 'NATS disconnected');
        this.set(false);
      } else if (status.type === Events.Reconnect) {
        this.options.logger?.info({ server }, 'NATS reconnected');
        this.set(true);
      } else if (status.type === Events.LDM) {
        this.options.logger?.warn({ server }, 'NATS server entering lame duck mode');
      } else if (status.type === Events.Error) {
        this.options.logger?.warn(
          { detail: server, permission: status.permissionContext },
          'NATS async error',
        );
      }
    }
  }
}
