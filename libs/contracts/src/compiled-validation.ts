import type { ValidationArguments } from 'class-validator';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';

type Storage = ReturnType<typeof getMetadataStorage>;
type ValidationMetadata = Parameters<Storage['addValidationMetadata']>[0];
type ConstraintMetadata = ReturnType<Storage['getTargetValidatorConstraints']>[number];
type Plain = Record<string, unknown>;
/** A class (class-validator and class-transformer key their metadata by constructor). */
type AnyClass = abstract new (...args: never[]) => unknown;

/** A compiled check: whether class-validator would accept the plain value turned into an instance of the class. */
export type CompiledCheck = (plain: Plain) => boolean;

/** class-transformer's `TransformationType.PLAIN_TO_CLASS`. */
const PLAIN_TO_CLASS = 0;

/** Types class-transformer converts values to itself (a `@Type(() => Date)` changes the value validated). */
const BUILT_INS: ReadonlySet<unknown> = new Set([
  Date,
  String,
  Number,
  Boolean,
  Object,
  Array,
  Map,
  Set,
  Buffer,
]);

interface Constraint {
  metadata: ValidationMetadata;
  validators: ConstraintMetadata[];
}

interface PropertyCheck {
  name: string;
  conditions: ValidationMetadata[];
  constraints: Constraint[];
  /** The nested class's check, when the property is `@ValidateNested()` with `@Type(() => Class)`. */
  nested: (() => CompiledCheck | null) | undefined;
}

const compiled = new Map<AnyClass, Map<string | undefined, CompiledCheck | null>>();

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a class or an ancestor has methods or accessors (a plain value would lack them). */
function hasBehaviour(cls: AnyClass): boolean {
  for (let proto: unknown = cls.prototype; proto && proto !== Object.prototype; ) {
    if (Object.getOwnPropertyNames(proto).some((name) => name !== 'constructor')) {
      return true;
    }
    proto = Object.getPrototypeOf(proto);
  }

  return false;
}

function runConstraints(
  constraints: readonly Constraint[],
  object: Plain,
  property: string,
  value: unknown,
): boolean {
  for (const { metadata, validators } of constraints) {
    if (metadata.validateIf && !metadata.validateIf(object, value)) {
      continue;
    }
    const args: ValidationArguments = {
      targetName: 'Object',
      property,
      object,
      value,
      constraints: metadata.constraints,
    };
    for (const validator of validators) {
      if (metadata.each && Array.isArray(value)) {
        if (!value.every((item) => validator.instance.validate(item, args) === true)) {
          return false;
        }
      } else if (validator.instance.validate(value, args) !== true) {
        // false, or a promise (not decided synchronously): leave the verdict to class-validator
        return false;
      }
    }
  }

  return true;
}

/** What class-validator's nested validation accepts: objects valid for the nested class, arrays of them. */
function nestedAccepts(value: unknown, check: CompiledCheck): boolean {
  if (value === undefined) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.every((item) => item === undefined || (isPlainObject(item) && check(item)));
  }

  return isPlainObject(value) && check(value);
}

function compileProperty(
  cls: AnyClass,
  name: string,
  metadatas: readonly ValidationMetadata[],
  storage: Storage,
): PropertyCheck | null {
  if (defaultMetadataStorage.findTransformMetadatas(cls, name, PLAIN_TO_CLASS).length > 0) {
    return null; // a @Transform changes the value class-validator sees
  }
  const conditions: ValidationMetadata[] = [];
  const constraints: Constraint[] = [];
  let nestedSchema: string | undefined | false = false;
  for (const metadata of metadatas) {
    switch (metadata.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        conditions.push(metadata);
        break;
      case ValidationTypes.IS_DEFINED:
      case ValidationTypes.CUSTOM_VALIDATION: {
        const validators = storage
          .getTargetValidatorConstraints(metadata.constraintCls)
          // validateSync skips asynchronous constraints
          .filter((validator) => !validator.async);
        constraints.push({ metadata, validators });
        break;
      }
      case ValidationTypes.NESTED_VALIDATION:
        nestedSchema = typeof metadata.target === 'string' ? metadata.target : metadata.target.name;
        break;
      case ValidationTypes.WHITELIST:
        break;
      default:
        return null; // promise validation, or a type this compiler does not know
    }
  }
  const type = defaultMetadataStorage.findTypeMetadata(cls, name);
  if (nestedSchema === false) {
    // a @Type without @ValidateNested converts the value (a Date from a string): not a plain check
    return type ? null : { name, conditions, constraints, nested: undefined };
  }
  if (!type || type.options?.discriminator) {
    return null;
  }
  let nestedClass: unknown;
  try {
    nestedClass = type.typeFunction();
  } catch {
    return null;
  }
  if (typeof nestedClass !== 'function' || BUILT_INS.has(nestedClass)) {
    return null;
  }
  const schema = nestedSchema;
  const target = nestedClass as AnyClass;

  return { name, conditions, constraints, nested: () => compiledCheck(target, schema) };
}

function compile(cls: AnyClass, schema: string | undefined): CompiledCheck | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(cls, schema as string, false, false, undefined);
  const grouped = storage.groupByPropertyName(metadatas);
  if (hasBehaviour(cls)) {
    return null;
  }
  if (defaultMetadataStorage.getExposedMetadatas(cls).length > 0) {
    return null;
  }
  if (defaultMetadataStorage.getExcludedMetadatas(cls).length > 0) {
    return null;
  }
  let instance: Plain;
  try {
    instance = new (cls as unknown as new () => Plain)();
  } catch {
    return null;
  }
  // class-transformer starts from `new cls()`: a default value would be validated (and kept) where the plain value
  // has none, and a declared field without validation metadata would be refused by the whitelist every time
  for (const key of Object.keys(instance)) {
    if (instance[key] !== undefined || (grouped[key]?.length ?? 0) === 0) {
      return null;
    }
  }
  const properties: PropertyCheck[] = [];
  for (const [name, list] of Object.entries(grouped)) {
    const property = compileProperty(cls, name, list, storage);
    if (!property) {
      return null;
    }
    properties.push(property);
  }
  const known = new Set(Object.keys(grouped));

  return (plain) => {
    try {
      return accepts(plain);
    } catch {
      return false; // a constraint that throws: class-validator decides (and refuses)
    }
  };

  function accepts(plain: Plain): boolean {
    // whitelist with forbidNonWhitelisted: a property without metadata is an error
    for (const key of Object.keys(plain)) {
      if (!known.has(key)) {
        return false;
      }
    }
    for (const property of properties) {
      const value = plain[property.name];
      let conditionsHold = true;
      for (const condition of property.conditions) {
        const check = condition.constraints[0] as (object: Plain, value: unknown) => boolean;
        conditionsHold = check(plain, value) && conditionsHold;
      }
      if (!conditionsHold) {
        continue;
      }
      if (!runConstraints(property.constraints, plain, property.name, value)) {
        return false;
      }
      if (property.nested) {
        const check = property.nested();
        if (!check || !nestedAccepts(value, check)) {
          return false;
        }
      }
    }

    return true;
  }
}

/**
 * The compiled form of a contract class's class-validator metadata, or `null` when the class uses something the
 * compiler does not reproduce exactly (class-transformer transforms, exposure rules, default values, methods,
 * promise validation, discriminators, built-in `@Type`s). The check calls class-validator's own constraint
 * implementations in the order and with the arguments `validateSync` uses, under the options `validatePayload`
 * uses (whitelist, forbid non-whitelisted, unknown values allowed) — without building an instance, error objects
 * or messages. It only ever accepts: a `false` means "ask class-validator", which then gives the field errors.
 * Remembered per class and nested schema; forgotten when validation metadata is added.
 */
export function compiledCheck(cls: AnyClass, schema?: string): CompiledCheck | null {
  let forClass = compiled.get(cls);
  if (!forClass) {
    forClass = new Map();
    compiled.set(cls, forClass);
  }
  if (!forClass.has(schema)) {
    // a self-referencing class finds its own entry while it compiles: refused until done, then the compiled check
    forClass.set(schema, null);
    forClass.set(schema, compile(cls, schema));
  }

  return forClass.get(schema) ?? null;
}

/** Forgets every compiled check (validation metadata was added: a class may have more constraints now). */
export function forgetCompiledChecks(): void {
  compiled.clear();
}
