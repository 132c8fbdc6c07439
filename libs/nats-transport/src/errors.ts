import { ErrorCode, headers, isErrorEnvelope, VivifiedError } from '@vivified/contracts';
import type { MsgHdrs } from 'nats';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, NatsError } from 'nats';

import { decodeJson, encodeJson } from './codec';

/** Turns anything thrown by a handler into a typed error; unknown errors become a bare 500. */
export function toVivifiedError(error: unknown): VivifiedError {
  if (error instanceof VivifiedError) {
    return error;
  }
  if (isErrorEnvelope(error)) {
    return VivifiedError.fromEnvelope(error);
  }

  return new VivifiedError(ErrorCode.Internal, 'internal error', { cause: error });
}

/** The headers and body of an error reply (ARCHITECTURE §3). */
export function errorReply(error: VivifiedError): { headers: MsgHdrs; data: Uint8Array } {
  const hdrs = natsHeaders(error.status, error.message);
  hdrs.set(headers.errorCode, String(error.status));
  hdrs.set(headers.error, error.message.replace(/[\r\n]+/g, ' '));

  return { headers: hdrs, data: encodeJson(error.toEnvelope()) };
}

/** Reads a reply: the decoded body, or the typed error it carries. */
export function readReply(data: Uint8Array, hdrs: MsgHdrs | undefined): unknown {
  const errorCode = hdrs?.get(headers.errorCode);
  if (errorCode) {
    const body = safeDecode(data);
    if (isErrorEnvelope(body)) {
      throw VivifiedError.fromEnvelope(body);
    }
    throw new VivifiedError(statusToCode(Number(errorCode)), hdrs?.get(headers.error) || 'remote error');
  }

  return decodeJson(data);
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}

function statusToCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return ErrorCode.BadRequest;
    case 401:
      return ErrorCode.Unauthenticated;
    case 403:
      return ErrorCode.PolicyDenied;
    case 404:
      return ErrorCode.NotFound;
    case 409:
      return ErrorCode.Conflict;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 429:
      return ErrorCode.RateLimited;
    case 503:
      return ErrorCode.Unavailable;
    case 504:
      return ErrorCode.Timeout;
    default:
      return ErrorCode.Internal;
  }
}

/** Maps a nats.js request failure (no responders, timeout) to a typed error. */
export function fromNatsError(error: unknown, subject: string): VivifiedError {
  if (error instanceof VivifiedError) {
    return error;
  }
  if (error instanceof NatsError) {
    if (error.code === (NatsErrorCode.NoResponders as string)) {
      return new VivifiedError(ErrorCode.Unavailable, `no service answers on ${subject}`, { cause: error });
    }
    if (error.code === (NatsErrorCode.Timeout as string)) {
      return new VivifiedError(ErrorCode.Timeout, `no reply on ${subject} in time`, { cause: error });
    }
    if (error.code === (NatsErrorCode.MaxPayloadExceeded as string)) {
      return new VivifiedError(ErrorCode.PayloadTooLarge, 'payload exceeds the server limit', {
        cause: error,
      });
    }
  }

  return new VivifiedError(ErrorCode.Unavailable, `request on ${subject} failed`, { cause: error });
}
