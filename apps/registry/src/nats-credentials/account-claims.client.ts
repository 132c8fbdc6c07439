import type { TransportLogger } from '@vivified/nats-transport';
import { connectNats, silentLogger } from '@vivified/nats-transport';
import { dynamicSubjects, subjects } from '@vivified/contracts';
import type { NatsConnection } from 'nats';

/** Reads and replaces an account JWT on the NATS servers (production mode). */
export interface AccountClaimsStore {
  /** The account's current JWT as the servers hold it. */
  lookup(accountPublicKey: string): Promise<string>;
  /** Stores an updated account JWT (signed by the operator) on every server of the full resolver. */
  update(accountJwt: string): Promise<void>;
  /** Closes the connection, if one was opened. */
  close(): Promise<void>;
}

/** Options of {@link NatsAccountClaimsClient}. */
export interface NatsAccountClaimsClientOptions {
  servers: string[];
  /** Path of a system-account creds file allowed `$SYS.REQ.CLAIMS.UPDATE` and `$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP`. */
  credsFile: string;
  timeoutMs?: number;
  logger?: TransportLogger;
}

interface ClaimsUpdateReply {
  data?: { code?: number; message?: string };
  error?: { code?: number; description?: string };
}

/** Error of a claims lookup or update the servers refused or did not answer. */
export class AccountClaimsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccountClaimsError';
  }
}

/**
 * {@link AccountClaimsStore} over the system account: its own NATS connection, opened on first use so the
 * registry never waits for it at start.
 */
export class NatsAccountClaimsClient implements AccountClaimsStore {
  private connection?: Promise<NatsConnection>;
  private readonly timeoutMs: number;

  constructor(private readonly options: NatsAccountClaimsClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async lookup(accountPublicKey: string): Promise<string> {
    const nc = await this.connect();
    let jwt: string;
    try {
      const reply = await nc.request(dynamicSubjects.accountClaimsLookup(accountPublicKey), undefined, {
        timeout: this.timeoutMs,
      });
      jwt = reply.string().trim();
    } catch (error) {
      throw new AccountClaimsError('account JWT lookup failed', { cause: error });
    }
    if (jwt.split('.').length !== 3) {
      throw new AccountClaimsError('the servers hold no JWT of the account');
    }

    return jwt;
  }

  async update(accountJwt: string): Promise<void> {
    const nc = await this.connect();
    let answer: ClaimsUpdateReply;
    try {
      const reply = await nc.request(subjects.natsSystem.claimsUpdate, accountJwt, {
        timeout: this.timeoutMs,
      });
      answer = reply.json<ClaimsUpdateReply>();
    } catch (error) {
      throw new AccountClaimsError('account JWT update failed', { cause: error });
    }
    if (answer.error || answer.data?.code !== 200) {
      throw new AccountClaimsError(
        `the servers refused the account JWT: ${answer.error?.description ?? answer.data?.message ?? 'no answer'}`,
      );
    }
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    if (pending) {
      const nc = await pending.catch(() => undefined);
      await nc?.close();
    }
  }

  /** The connection; it keeps retrying in the background, a caller waits at most the timeout for it. */
  private async connect(): Promise<NatsConnection> {
    this.connection ??= connectNats({
      servers: this.options.servers,
      name: 'registry-system',
      credsFile: this.options.credsFile,
      logger: this.options.logger ?? silentLogger,
    }).then(
      ({ nc }) => nc,
      (error: unknown) => {
        // a missing creds file, say: the next call tries again
        this.connection = undefined;
        throw new AccountClaimsError('cannot connect to the NATS system account', { cause: error });
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AccountClaimsError('no connection to the NATS system account')),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([this.connection, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
