import { setTimeout as sleep } from 'node:timers/promises';

import { subjects, VivifiedError } from '@vivified/contracts';
import type { VivifiedClient } from '@vivified/nats-transport';
import type { NatsConnection, Subscription } from 'nats';
import { Secret, TOTP } from 'otpauth';

const PERIOD_MS = 30_000;

/**
 * An authenticator app in the test: hands out codes of steps it has not used yet, within the ±1 step the service
 * accepts, waiting for the clock when it has used them all.
 */
export class TestAuthenticator {
  private lastStep = -1;
  private lastCode: string | undefined;

  constructor(readonly secret: string) {}

  /** A code the service has not seen (the current step, else the next one, else after a wait). */
  async nextCode(): Promise<string> {
    let current = Math.floor(Date.now() / PERIOD_MS);
    const step = Math.max(this.lastStep + 1, current);
    while (step > current + 1) {
      await sleep(PERIOD_MS - (Date.now() % PERIOD_MS) + 50);
      current = Math.floor(Date.now() / PERIOD_MS);
    }
    this.lastStep = step;
    this.lastCode = this.codeAt(step);

    return this.lastCode;
  }

  /** The code handed out last (for replay checks). */
  get previousCode(): string {
    if (this.lastCode === undefined) {
      throw new Error('no code handed out yet');
    }

    return this.lastCode;
  }

  /** A well-formed code that is wrong now (a step far from the current one). */
  wrongCode(): string {
    const current = Math.floor(Date.now() / PERIOD_MS);
    const accepted = [current - 1, current, current + 1, current + 2].map((step) => this.codeAt(step));
    for (let offset = 100; ; offset++) {
      const candidate = this.codeAt(current + offset);
      if (!accepted.includes(candidate)) {
        return candidate;
      }
    }
  }

  private codeAt(step: number): string {
    return new TOTP({
      secret: Secret.fromBase32(this.secret),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    }).generate({
      timestamp: step * PERIOD_MS,
    });
  }
}

/** The error a call rejects with; fails the test when it resolves. */
export async function rejection(call: Promise<unknown>): Promise<VivifiedError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof VivifiedError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * The records of one message on `vivified.audit.>`, each with its own JSON text: a lone record, or the records of a
 * batch (`{"records":[…]}`, which an emitter sends when several records wait at once, ADR-0007).
 */
export function auditRecordsOf<T>(data: Uint8Array): Array<{ record: T; text: string }> {
  const text = new TextDecoder().decode(data);
  const parsed = JSON.parse(text) as { records?: unknown };
  if (Array.isArray(parsed.records)) {
    return parsed.records.map((record) => ({ record: record as T, text: JSON.stringify(record) }));
  }

  return [{ record: parsed as T, text }];
}

/**
 * The first login of a user whose roles need MFA (the first admin among them): the password login answers an
 * enrolment token, with which TOTP is set up and enabled. Answers the user's access token and its authenticator app.
 */
export async function enrolAtFirstLogin(
  client: VivifiedClient,
  username: string,
  password: string,
): Promise<{ accessToken: string; app: TestAuthenticator }> {
  const first = await client.request(subjects.identity.auth.login, { username, password });
  const enrollmentToken = first.enrollmentToken as string;
  const { secret } = await client.request(subjects.identity.mfa.totpSetup, { enrollmentToken });
  const app = new TestAuthenticator(secret);
  const enabled = await client.request(subjects.identity.mfa.totpEnable, {
    enrollmentToken,
    code: await app.nextCode(),
  });

  return { accessToken: enabled.accessToken as string, app };
}

/** The fields of an audit record the suites read. */
export interface AuditSeen {
  category: string;
  action: string;
  outcome: string;
  actor: { kind: string; id: string };
  target?: string;
  details: Record<string, unknown>;
}

/**
 * Collects every audit record published on `nc` (alone or in batches) into `records`, and its raw JSON into `raw`
 * (for the checks that no secret is ever in a record), as far as `keep` accepts it; unsubscribe when done.
 */
export function collectAudit<T>(
  nc: NatsConnection,
  records: T[],
  raw: string[] = [],
  keep: (record: T) => boolean = () => true,
): Subscription {
  return nc.subscribe(subjects.auditRecords.all, {
    callback: (_error, msg) => {
      for (const { record, text } of auditRecordsOf<T>(msg.data)) {
        if (keep(record)) {
          raw.push(text);
          records.push(record);
        }
      }
    },
  });
}
