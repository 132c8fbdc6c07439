import { plainToInstance } from 'class-transformer';
import type { MetadataStorage, ValidationError } from 'class-validator';
import { getMetadataStorage, validateSync } from 'class-validator';

type ValidationMetadata = Parameters<MetadataStorage['addValidationMetadata']>[0];

import { compiledCheck, forgetCompiledChecks } from './compiled-validation';
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
    forgetCompiledChecks();
    add(metadata);
  };
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  storage.addConstraintMetadata = (metadata) => {
    forgetCompiledChecks();
    addConstraint(metadata);
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
 * Validates a plain value against a contract class: unknown properties are refused and nested objects are
 * validated. A valid value is answered as it came when the class's compiled check (compiled-validation.ts)
 * accepts it — the common case, without class-transformer's copy or class-validator's error objects — and
 * otherwise as the instance class-transformer makes of it; invalid values get class-validator's field errors.
 */
export function validatePayload<T extends object>(cls: PayloadClass<T>, plain: unknown): ValidationResult<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, errors: [{ path: '', messages: ['payload must be a JSON object'] }] };
  }
  const check = compiledCheck(cls);
  if (check?.(plain as Record<string, unknown>)) {
    return { ok: true, value: plain as T };
  }

  return validateInstance(cls, plain);
}

/** class-validator's verdict on class-transformer's instance of a plain object (the reference the compiled checks follow). */
export function validateInstance<T extends object>(cls: PayloadClass<T>, plain: object): ValidationResult<T> {
  const value = plainToInstance(cls, plain, { enableImplicitConversion: false });
  let errors: ValidationError[];
  try {
    errors = validateSync(value, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: false,
      validationError: { target: false, value: false },
    });
  } catch {
    // a constraint that throws on a value it cannot read (IsNumber's decimal places of 5e-324) refuses the value
    return { ok: false, errors: [{ path: '', messages: [`payload is not a valid ${cls.name}`] }] };
  }

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
