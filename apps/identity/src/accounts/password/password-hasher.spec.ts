import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';

import { argon2Parameters, PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const sut = new PasswordHasher();

  it('hashes with argon2id at the chosen cost and a random salt', async () => {
    const first = await sut.hash('Correct-Horse-Battery-9');
    const second = await sut.hash('Correct-Horse-Battery-9');

    expect(first).toMatch(/^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
    expect(first).not.toBe(second);
    expect(sut.needsRehash(first)).toBe(false);
  });

  it('verifies the right password only', async () => {
    const encoded = await sut.hash('Correct-Horse-Battery-9');

    expect(await sut.verify(encoded, 'Correct-Horse-Battery-9')).toBe(true);
    expect(await sut.verify(encoded, 'correct-horse-battery-9')).toBe(false);
  });

  it('treats a malformed hash as a mismatch and as due for a rehash', async () => {
    expect(await sut.verify('not-a-hash', 'Correct-Horse-Battery-9')).toBe(false);
    expect(sut.needsRehash('not-a-hash')).toBe(true);
  });

  it('asks for a rehash of a hash made at another cost', async () => {
    const cheaper = await hash('Correct-Horse-Battery-9', { ...argon2Parameters, memoryCost: 19_456 });

    expect(sut.needsRehash(cheaper)).toBe(true);
    expect(await sut.verify(cheaper, 'Correct-Horse-Battery-9')).toBe(true);
  });

  it('spends a verification on an unknown user and answers false', async () => {
    await sut.onModuleInit();

    expect(await sut.verifyDummy('Correct-Horse-Battery-9')).toBe(false);
  });
});
