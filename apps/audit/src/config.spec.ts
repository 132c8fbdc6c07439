import { describe, expect, it } from 'vitest';

import { MIN_PRODUCTION_RETENTION_DAYS, retentionProblem } from './config';

describe('audit retention floor', () => {
  it('refuses less than six years in production only', () => {
    expect(retentionProblem({ production: true, retentionDays: 30 })).toMatch(/shorter than the 2190 days/);
    expect(
      retentionProblem({ production: true, retentionDays: MIN_PRODUCTION_RETENTION_DAYS }),
    ).toBeUndefined();
    expect(retentionProblem({ production: true, retentionDays: 2555 })).toBeUndefined();
    expect(retentionProblem({ production: false, retentionDays: 1 })).toBeUndefined();
  });
});
