import 'reflect-metadata';

import { Transform, Type } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import {
  getMetadataStorage,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
  ValidationTypes,
} from 'class-validator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { compiledCheck } from './compiled-validation';
import { canonicalEvents } from './events/canonical-events';
import { EventEnvelope } from './events/envelope';
import * as contracts from './index';
import { validateInstance, validatePayload } from './validation';

type Plain = Record<string, unknown>;
type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];
type AnyClass = abstract new (...args: never[]) => unknown;

/** Every class the contracts export that carries validation metadata. */
const contractClasses = Object.entries(contracts)
  .filter(
    (entry): entry is [string, new () => object] =>
      typeof entry[1] === 'function' &&
      /^[A-Z]/.test(entry[0]) &&
      metadataOf(entry[1] as AnyClass).length > 0,
  )
  .sort(([a], [b]) => a.localeCompare(b));

function metadataOf(cls: AnyClass): Metadata[] {
  return getMetadataStorage().getTargetValidationMetadatas(
    cls,
    undefined as unknown as string,
    false,
    false,
    undefined,
  );
}

/** Values near what a property's constraints accept (IsIn values, Matches patterns), among arbitrary JSON. */
function valuesFor(cls: AnyClass, property: string, depth: number): fc.Arbitrary<unknown> {
  const hints: Array<fc.Arbitrary<unknown>> = [];
  for (const metadata of metadataOf(cls).filter((m) => m.propertyName === property)) {
    const name = getMetadataStorage().getTargetValidatorConstraints(metadata.constraintCls)[0]?.name;
    const [first] = (metadata.constraints ?? []) as unknown[];
    if (name === 'isIn' && Array.isArray(first) && first.length > 0) {
      const values: unknown[] = first;
      hints.push(fc.constantFrom(...values), fc.subarray(values));
    }
    if (name === 'isEnum' && typeof first === 'object' && first !== null) {
      const values: unknown[] = Object.values(first);
      if (values.length > 0) {
        hints.push(fc.constantFrom(...values), fc.subarray(values));
      }
    }
    if (name === 'matches' && first instanceof RegExp && !first.flags.includes('i')) {
      hints.push(fc.stringMatching(first));
    }
    if (metadata.type === ValidationTypes.NESTED_VALIDATION && depth < 2) {
      const nested = nestedClassOf(cls, property);
      if (nested) {
        hints.push(objectFor(nested, depth + 1), fc.array(objectFor(nested, depth + 1), { maxLength: 3 }));
      }
    }
  }
  const json = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -5, max: 100_000 }),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 12 }),
    fc.string({ minLength: 200, maxLength: 300 }),
    fc.uuid(),
    fc.uuid().map((id) => `user:${id}`),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    fc.emailAddress(),
    fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/),
    fc.array(fc.stringMatching(/^[a-z][a-z0-9_-]{1,10}$/), { maxLength: 4 }),
    fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  );

  return hints.length > 0
    ? fc.oneof({ arbitrary: fc.oneof(...hints), weight: 3 }, { arbitrary: json, weight: 1 })
    : json;
}

function nestedClassOf(cls: AnyClass, property: string): AnyClass | undefined {
  // class-transformer's @Type: the same lookup the compiled check makes
  const type = defaultMetadataStorage.findTypeMetadata(cls, property);

  return type ? (type.typeFunction() as AnyClass) : undefined;
}

/** Objects with the class's properties (each maybe missing) and sometimes an unknown one. */
function objectFor(cls: AnyClass, depth = 0): fc.Arbitrary<Plain> {
  const properties = [...new Set(metadataOf(cls).map((m) => m.propertyName))];
  const shape = Object.fromEntries(properties.map((name) => [name, valuesFor(cls, name, depth)]));

  return fc
    .tuple(
      fc.record(shape, { requiredKeys: [] }),
      fc.option(fc.tuple(fc.constantFrom('extra', 'constructor', 'toString'), fc.string({ maxLength: 4 }))),
    )
    .map(([record, extra]) => {
      const value: Plain = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
      if (extra) {
        value[extra[0]] = extra[1];
      }

      return value;
    });
}

describe('compiled validation checks', () => {
  it('compile for the contracts on the hot paths', () => {
    expect(compiledCheck(EventEnvelope)).not.toBeNull();
    for (const canonical of canonicalEvents) {
      expect(compiledCheck(canonical.payload), canonical.type).not.toBeNull();
    }
    const compiledShare = contractClasses.filter(([, cls]) => compiledCheck(cls) !== null).length;
    expect(compiledShare / contractClasses.length).toBeGreaterThan(0.9);
  });

  it.each(contractClasses)(
    'never accept what class-validator refuses, and agree with it: %s',
    (_name, cls) => {
      const check = compiledCheck(cls);
      if (!check) {
        return;
      }
      let accepted = 0;
      fc.assert(
        fc.property(objectFor(cls), (plain) => {
          const reference = validateInstance(cls, structuredClone(plain)).ok;
          const fast = check(plain);
          if (fast) {
            accepted += 1;
          }
          if (fast) {
            // the one direction that matters: never looser than class-validator
            expect(reference, JSON.stringify(plain)).toBe(true);
          } else if (reference) {
            // stricter only where class-transformer drops a key named like an Object method (class-validator then
            // decides, so the answer is the same)
            expect(
              Object.keys(plain).some((key) => key in Object.prototype),
              JSON.stringify(plain),
            ).toBe(true);
          }
        }),
        { numRuns: 150 },
      );
      expect(accepted).toBeGreaterThanOrEqual(0);
    },
  );

  it('refuse what they cannot reproduce, and class-validator decides', () => {
    class Trimmed {
      @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
      @Matches(/^\S+$/)
      name!: string;
    }
    expect(compiledCheck(Trimmed)).toBeNull();
    expect(validatePayload(Trimmed, { name: ' padded ' }).ok).toBe(true);

    class Defaulted {
      @IsOptional()
      @IsIn(['a', 'b'])
      mode: string = 'a';
    }
    expect(compiledCheck(Defaulted)).toBeNull();

    class WithMethod {
      @IsString()
      name!: string;

      shout(): string {
        return this.name.toUpperCase();
      }
    }
    expect(compiledCheck(WithMethod)).toBeNull();
    const result = validatePayload(WithMethod, { name: 'x' });
    expect(result.ok && result.value.shout()).toBe('X');
  });

  it('check nested objects and arrays of them like class-validator', () => {
    class Leaf {
      @IsString()
      id!: string;
    }
    class Tree {
      @IsOptional()
      @ValidateNested()
      @Type(() => Leaf)
      leaf?: Leaf | Leaf[];
    }
    const check = compiledCheck(Tree);
    expect(check).not.toBeNull();
    const cases: Plain[] = [
      {},
      { leaf: { id: 'a' } },
      { leaf: [{ id: 'a' }, { id: 'b' }] },
      { leaf: { id: 1 } },
      { leaf: { id: 'a', more: 1 } },
      { leaf: 'text' },
      { leaf: null },
      { leaf: [{ id: 'a' }, 3] },
      { leaf: [[{ id: 'a' }]] },
    ];
    for (const plain of cases) {
      const reference = validateInstance(Tree, structuredClone(plain)).ok;
      // the compiled check may be stricter (class-validator then decides), never looser
      expect(!check?.(plain) || reference, JSON.stringify(plain)).toBe(true);
      expect(validatePayload(Tree, plain).ok, JSON.stringify(plain)).toBe(reference);
    }
  });
});
