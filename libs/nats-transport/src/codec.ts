import { ErrorCode, VivifiedError } from '@vivified/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** Encodes a value as JSON bytes; `undefined` becomes an empty payload. */
export function encodeJson(value: unknown): Uint8Array {
  return value === undefined ? EMPTY : encoder.encode(JSON.stringify(value));
}

/** Decodes JSON bytes; an empty payload is `{}`. Bad JSON is a typed 400 error. */
export function decodeJson(data: Uint8Array): unknown {
  if (data.length === 0) {
    return {};
  }
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch (error) {
    throw new VivifiedError(ErrorCode.BadRequest, 'payload is not valid JSON', { cause: error });
  }
}
