import { dynamicSubjects } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { baseEventType, subscriptionId } from './subscription-id';

describe('subscriptionId', () => {
  it('is a valid durable name and dead-letter token, distinct per plugin and type', () => {
    const id = subscriptionId('acme-crm', 'acme.invoice.paid');

    expect(id).toMatch(/^sub_acme-crm_acme_invoice_paid_[0-9a-f]{8}$/);
    expect(() => dynamicSubjects.deadLetter(id)).not.toThrow();
    expect(subscriptionId('acme-crm', 'acme.invoice_paid')).not.toBe(
      subscriptionId('acme-crm', 'acme_invoice.paid'),
    );
    expect(subscriptionId('a-plugin', 'UserCreated')).not.toBe(subscriptionId('b-plugin', 'UserCreated'));
    expect(subscriptionId('p'.repeat(63), 'a.'.repeat(99) + 'b').length).toBeLessThanOrEqual(200);
  });

  it('drops the version pin of a manifest entry', () => {
    expect(baseEventType('UserCreated@1.0')).toBe('UserCreated');
    expect(baseEventType('acme.invoice.paid')).toBe('acme.invoice.paid');
  });
});
