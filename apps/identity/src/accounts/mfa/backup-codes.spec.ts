import { BACKUP_CODE_PATTERN } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { backupCodeHashInput, generateBackupCodes, normalizeBackupCode } from './backup-codes';

describe('backup codes', () => {
  it('generates ten distinct xxxx-xxxx codes the contract accepts', () => {
    const codes = generateBackupCodes();

    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      expect(code).toMatch(BACKUP_CODE_PATTERN);
    }
  });

  it('normalizes case, hyphen and look-alike characters', () => {
    expect(normalizeBackupCode('AB7K-9MZQ')).toBe('ab7k9mzq');
    expect(normalizeBackupCode('ab7k9mzq')).toBe('ab7k9mzq');
    expect(normalizeBackupCode('IOLx-yz01')).toBe('101xyz01');
  });

  it('refuses what cannot be a code', () => {
    expect(normalizeBackupCode('abc')).toBeUndefined();
    expect(normalizeBackupCode('abcd-efgu')).toBeUndefined();
    expect(normalizeBackupCode('abcd-efgh-ijkl')).toBeUndefined();
  });

  it('binds the hashed value to the user', () => {
    expect(backupCodeHashInput('u1', 'ab7k9mzq')).not.toBe(backupCodeHashInput('u2', 'ab7k9mzq'));
  });
});
