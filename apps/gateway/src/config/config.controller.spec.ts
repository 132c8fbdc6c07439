import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { notModified, withPrecondition } from './config.controller';

const etag = '"cfg-7-0123456789abcdef0123"';

describe(notModified.name, () => {
  it.each([
    [etag, true],
    [`W/${etag}`, true],
    [`"other", ${etag}`, true],
    ['*', true],
    ['"cfg-6-0123456789abcdef0123"', false],
    [undefined, false],
    ['', false],
  ])('If-None-Match %j → %s', (header, expected) => {
    expect(notModified(header, etag)).toBe(expected);
  });
});

describe(withPrecondition.name, () => {
  const body = { values: { 'ui.plugins.enabled': false } };

  it('turns If-Match into expectedVersion', () => {
    expect(withPrecondition(body, etag)).toEqual({ ...body, expectedVersion: 7 });
    expect(withPrecondition({ ...body, expectedVersion: 7 }, `W/${etag}`)).toEqual({
      ...body,
      expectedVersion: 7,
    });
  });

  it('leaves the body alone without If-Match, with *, or when it is not an object', () => {
    expect(withPrecondition(body, undefined)).toBe(body);
    expect(withPrecondition(body, '*')).toBe(body);
    expect(withPrecondition('text', etag)).toBe('text');
  });

  const code = (run: () => unknown): ErrorCode | undefined => {
    try {
      run();
    } catch (error) {
      return error instanceof VivifiedError ? error.code : undefined;
    }

    return undefined;
  };

  it('answers CONFLICT for a tag that names no version of the config, or two versions', () => {
    expect(code(() => withPrecondition(body, '"abc"'))).toBe(ErrorCode.Conflict);
    expect(code(() => withPrecondition(body, `${etag}, "cfg-8-0123"`))).toBe(ErrorCode.Conflict);
  });

  it('refuses If-Match and expectedVersion that disagree', () => {
    expect(code(() => withPrecondition({ ...body, expectedVersion: 6 }, etag))).toBe(ErrorCode.BadRequest);
  });
});
