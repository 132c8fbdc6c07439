import { plainToInstance } from 'class-transformer';
import type { MetadataStorage, ValidationError } from 'class-validator';
import { getMetadataStorage, validateSync } from 'class-validator';

type ValidationMetadata = Parameters<MetadataStorage['addValidationMetadata']>[0];

import type { FieldError } from './errors';
import { ErrorCode, VivifiedError } from './errors';

/** A class whose instances are a contract's payload. */
export type PayloadClass<T = object> = new () => T;

/** The outcome of {@link validatePayload}. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/**
 * class-validator looks up a class's validation metadata on every validated object by walking every registered
 * class for inheritance — with this library's few hundred contract classes, that walk was the largest single cost
 * of validating a request. The answer only changes when metadata is added (a class is defined), so it is
 * remembered per class and options, and forgotten whenever metadata is added. Installed once per process.
 */
function rememberMetadataLookups(): void {
  const storage = getMetadataStorage() as MetadataStorage & { vivifiedMemo?: true };
  if (storage.vivifiedMemo) {
    return;
  }
  storage.vivifiedMemo = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let memo = new Map<unknown, Map<string, ValidationMetadata[]>>();
  storage.addValidationMetadata = (metadata: ValidationMetadata) => {
    memo = new Map();
    add(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strict, groups) => {
    if (groups !== undefined && groups.length > 0) {
      return lookup(target, schema, always, strict, groups);
    }
    const key = `${schema}|${always}|${strict}`;
    let forTarget = memo.get(target);
    if (!forTarget) {
      forTarget = new Map();
      memo.set(target, forTarget);
    }
    let found = forTarget.get(key);
    if (!found) {
      found = lookup(target, schema, always, strict, groups);
      forTarget.set(key, found);
    }

    return found;
  };
}
rememberMetadataLookups();

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
