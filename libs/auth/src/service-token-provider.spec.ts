import { ErrorCode, subjects, VivifiedError } from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { describe, expect, it } from 'vitest';

import type { TokenRequester } from './service-token-provider';
import { ServiceTokenProvider } from './service-token-provider';

const SECRET = 'a-service-secret-of-at-least-32-characters';

interface Call {
  subject: string;
  body: unknown;
}

/** Answers exchanges like identity would: a numbered token per call, or the queued failures first. */
function identity(expiresIn = 3600): TokenRequester & { calls: Call[]; failures: Error[] } {
  const calls: Call[] = [];
  const failures: Error[] = [];

  return {
    calls,
    failures,
    requestRaw: (subject: string, body: unknown) => {
      calls.push({ subject, body });
      const failure = failures.shift();
      if (failure !== undefined) {
        return Promise.reject(failure);
      }

      return Promise.resolve({ accessToken: `jwt-${calls.length}`, expiresIn, tokenType: 'Bearer' });
    },
  };
}

function recordingLogger(): TransportLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (obj: object, msg?: string) => {
    lines.push(JSON.stringify({ obj, msg }));
  };

  return { lines, debug: record, info: record, warn: record, error: record };
}

describe(ServiceTokenProvider.name, () => {
  it('exchanges the secret on first use only, on the service-token subject', async () => {
    const client = identity();
    const sut = new ServiceTokenProvider({ client, service: 'registry', secret: SECRET });
    expect(client.calls).toHaveLength(0);

    await expect(sut.token()).resolves.toBe('jwt-1');
    await expect(sut.token()).resolves.toBe('jwt-1');

    expect(client.calls).toEqual([
      { subject: subjects.identity.tokens.service, body: { service: 'registry', secret: SECRET } },
    ]);
  });

  it('makes one exchange for concurrent callers', async () => {
    const client = identity();
    const sut = new ServiceTokenProvider({ client, service: 'registry', secret: SECRET });

    const tokens = await Promise.all([sut.token(), sut.token(), sut.token()]);

    expect(tokens).toEqual(['jwt-1', 'jwt-1', 'jwt-1']);
    expect(client.calls).toHaveLength(1);
  });

  it('renews after 80 % of the lifetime', async () => {
    const client = identity(1000);
    let now = 0;
    const sut = new ServiceTokenProvider({ client, service: 'audit', secret: SECRET, now: () => now });
    await sut.token();

    now = 799_000;
    await expect(sut.token()).resolves.toBe('jwt-1');
    now = 800_000;
    await expect(sut.token()).resolves.toBe('jwt-2');
    expect(client.calls).toHaveLength(2);
  });

  it('renews on demand after invalidate()', async () => {
    const client = identity();
    const sut = new ServiceTokenProvider({ client, service: 'audit', secret: SECRET });
    await sut.token();

    sut.invalidate();

    await expect(sut.token()).resolves.toBe('jwt-2');
  });

  it('answers undefined while identity cannot give a token, and waits before asking again', async () => {
    const client = identity();
    client.failures.push(new VivifiedError(ErrorCode.Timeout, 'no reply'));
    let now = 0;
    const sut = new ServiceTokenProvider({
      client,
      service: 'gateway',
      secret: SECRET,
      now: () => now,
      retryAfterMs: 2_000,
    });

    await expect(sut.token()).resolves.toBeUndefined();
    now = 1_000;
    await expect(sut.token()).resolves.toBeUndefined();
    expect(client.calls).toHaveLength(1);

    now = 2_000;
    await expect(sut.token()).resolves.toBe('jwt-2');
  });

  it('keeps using a still valid token when a renewal fails', async () => {
    const client = identity(1000);
    let now = 0;
    const sut = new ServiceTokenProvider({ client, service: 'policy', secret: SECRET, now: () => now });
    await sut.token();
    const down = new VivifiedError(ErrorCode.Unavailable, 'identity down');
    client.failures.push(down, down);

    now = 900_000;
    await expect(sut.token()).resolves.toBe('jwt-1');
    now = 1_000_000;
    await expect(sut.token()).resolves.toBeUndefined();
    expect(client.calls).toHaveLength(3);
  });

  it('treats a reply that is not an access token as a failure', async () => {
    const client: TokenRequester = { requestRaw: () => Promise.resolve({ accessToken: 'x' }) };
    const sut = new ServiceTokenProvider({ client, service: 'policy', secret: SECRET });

    await expect(sut.token()).resolves.toBeUndefined();
  });

  it('never logs the secret or the token', async () => {
    const logger = recordingLogger();
    const client = identity();
    client.failures.push(new VivifiedError(ErrorCode.Unauthenticated, 'invalid secret', { reason: 'bad' }));
    let now = 0;
    const sut = new ServiceTokenProvider({
      client,
      service: 'policy',
      secret: SECRET,
      logger,
      now: () => now,
    });

    await sut.token();
    now = 10_000;
    await sut.token();

    expect(logger.lines.length).toBeGreaterThanOrEqual(2);
    expect(logger.lines.join('\n')).not.toContain(SECRET);
    expect(logger.lines.join('\n')).not.toContain('jwt-');
  });
});
