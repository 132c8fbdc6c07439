import { ErrorCode, headers, VivifiedError } from '@vivified/contracts';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, NatsError } from 'nats';
import { describe, expect, it } from 'vitest';

import { decodeJson, encodeJson } from './codec';
import { redeliveryDelayMs } from './consumer-runner';
import { errorReply, fromNatsError, readReply, toVivifiedError } from './errors';

describe(readReply.name, () => {
  it('returns the decoded body of a success', () => {
    expect(readReply(encodeJson({ ok: 1 }), undefined)).toEqual({ ok: 1 });
  });

  it('rebuilds the typed error of an error reply', () => {
    const { headers: hdrs, data } = errorReply(
      new VivifiedError(ErrorCode.PolicyDenied, 'denied', { reason: 'phi_trait_missing', auditId: 'a1' }),
    );
    expect(hdrs.get(headers.errorCode)).toBe('403');
    expect(() => readReply(data, hdrs)).toThrow(
      expect.objectContaining({ code: ErrorCode.PolicyDenied, reason: 'phi_trait_missing', auditId: 'a1' }),
    );
  });

  it('maps a bare status header without an envelope to its code', () => {
    const hdrs = natsHeaders();
    hdrs.set(headers.errorCode, '429');
    hdrs.set(headers.error, 'slow down');
    expect(() => readReply(new TextEncoder().encode('not json'), hdrs)).toThrow(
      expect.objectContaining({ code: ErrorCode.RateLimited, message: 'slow down' }),
    );
  });
});

describe(toVivifiedError.name, () => {
  it('keeps typed errors and hides the message of anything else', () => {
    const typed = new VivifiedError(ErrorCode.NotFound, 'no');
    expect(toVivifiedError(typed)).toBe(typed);
    const hidden = toVivifiedError(new Error('password=hunter2'));
    expect(hidden.code).toBe(ErrorCode.Internal);
    expect(hidden.message).toBe('internal error');
  });
});

describe(fromNatsError.name, () => {
  it.each([
    [NatsErrorCode.NoResponders, ErrorCode.Unavailable],
    [NatsErrorCode.Timeout, ErrorCode.Timeout],
    [NatsErrorCode.MaxPayloadExceeded, ErrorCode.PayloadTooLarge],
  ])('maps nats %s to %s', (natsCode, code) => {
    expect(fromNatsError(new NatsError('x', natsCode), 'vivified-subject').code).toBe(code);
  });
});

describe(decodeJson.name, () => {
  it('reads an empty payload as an empty object and refuses bad JSON with BAD_REQUEST', () => {
    expect(decodeJson(new Uint8Array())).toEqual({});
    expect(() => decodeJson(new TextEncoder().encode('{'))).toThrow(
      expect.objectContaining({ code: ErrorCode.BadRequest }),
    );
  });
});

describe(redeliveryDelayMs.name, () => {
  it('follows the backoff and repeats its last step', () => {
    expect([1, 2, 3, 4, 9].map((count) => redeliveryDelayMs([100, 200, 400], count))).toEqual([
      100, 200, 400, 400, 400,
    ]);
    expect(redeliveryDelayMs([], 3)).toBe(1_000);
  });
});
