import { plainToInstance } from 'class-transformer';
import type { ValidationError } from 'class-validator';
import { validateSync } from 'class-validator';

import type { FieldError } from './errors';
import { ErrorCode, VivifiedError } from './errors';

/** A class whose instances are a contract's payload. */
export type PayloadClass<T = object> = new () => T;

/** The outcome of {@link validatePayload}. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ path, messages: Object.values(error.constraints) }] : [];

    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Validates a plain value against a contract class: unknown properties are refused, nested objects are
 * validated, and the result is an instance of the class.
 */
export function validatePayload<T extends object>(cls: PayloadClass<T>, plain: unknown): ValidationResult<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, errors: [{ path: '', messages: ['payload must be a JSON object'] }] };
  }
  const value = plainToInstance(cls, plain, { enableImplicitConversion: false });
  const errors = validateSync(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });

  return errors.length === 0 ? { ok: true, value } : { ok: false, errors: flatten(errors) };
}

/** Like {@link validatePayload}, but throws a {@link VivifiedError} listing every field error. */
export function parsePayload<T extends object>(cls: PayloadClass<T>, plain: unknown): T {
  const result = validatePayload(cls, plain);
  if (!result.ok) {
    throw new VivifiedError(ErrorCode.ValidationFailed, `invalid ${cls.name}`, { details: result.errors });
  }

  return result.value;
}
