import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ruleIds } from './engine/rule-ids';
import { actionTable, tableAfter, traitTable } from './testing/policy.docs';

const document = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'policy.md'), 'utf8');

describe('docs/policy.md', () => {
  it('lists every trait as the registry has it', () => {
    const { header, rows } = traitTable();
    expect(tableAfter(document, '### Trait table')).toEqual([header, ...rows]);
  });

  it('lists every action as the catalogue has it', () => {
    const { header, rows } = actionTable();
    expect(tableAfter(document, '## Action vocabulary')).toEqual([header, ...rows]);
  });

  it('names every rule id', () => {
    for (const ruleId of ruleIds) {
      expect(document, ruleId).toContain(`\`${ruleId}\``);
    }
  });
});
