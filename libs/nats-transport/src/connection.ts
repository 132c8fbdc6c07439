import type { Authenticator, NatsConnection } from 'nats';
import { connect, credsAuthenticator } from 'nats';
import { readFileSync } from 'node:fs';

import type { TransportLogger } from './context';
import { silentLogger } from './context';

/** Options of {@link connectNats}. */
export interface NatsConnectOptions {
  /** Server URLs (`nats://host:4222`). */
  servers: string | string[];
  /** Connection name shown in the server's monitoring (`identity`). */
  name: string;
  /** Path of a NATS credentials file (user JWT + nkey seed). */
  credsFile?: string;
  /** Inbox prefix for replies (plugins get `_INBOX_<id>`). */
  inboxPrefix?: string;
  logger?: TransportLogger;
}

/**
 * Connects and keeps reconnecting forever with jittered backoff, including before the first connection, so a
 * service may start before NATS does. (service-kit's NatsConnectionMonitor follows and logs its status.)
 */
export async function connectNats(options: NatsConnectOptions): Promise<{ nc: NatsConnection }> {
  const log = options.logger ?? silentLogger;
  const authenticator: Authenticator | undefined = options.credsFile
    ? credsAuthenticator(readFileSync(options.credsFile))
    : undefined;
  const nc = await connect({
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 3,
    // Without this, every request and JetStream publish captures two stack traces up front (for a timeout that
    // rarely happens): about a tenth of a busy service's CPU. Our errors carry the subject instead.
    noAsyncTraces: true,
    ...(authenticator ? { authenticator } : {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
  });
  void nc.closed().then((error) => {
    if (error) {
      log.error({ err: error }, 'NATS connection closed with an error');
    }
  });
  log.info({ server: nc.getServer() }, 'NATS connected');

  return { nc };
}
