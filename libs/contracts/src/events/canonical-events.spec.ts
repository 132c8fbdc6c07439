import { describe, expect, it } from 'vitest';

import { validatePayload } from '../validation';
import { canonicalEvent, canonicalEvents, PatientRecordAccessedV1, UserCreatedV1 } from './canonical-events';
import { EventEnvelope } from './envelope';

describe('canonical events', () => {
  it('holds the types of ARCHITECTURE §3, each versioned major.minor', () => {
    expect(canonicalEvents.map((event) => event.type)).toEqual([
      'UserCreated',
      'UserUpdated',
      'UserDeactivated',
      'MessageSendRequested',
      'MessageSent',
      'NotificationRequested',
      'NotificationSent',
      'DocumentStored',
      'PatientRecordAccessed',
    ]);
    for (const event of canonicalEvents) {
      expect(event.version).toMatch(/^\d+\.\d+$/);
    }
    expect(canonicalEvent('PatientRecordAccessed')?.classification).toEqual(['phi']);
  });

  it('validates UserCreated {userId, username, email, roles?}', () => {
    expect(
      validatePayload(UserCreatedV1, { userId: 'u', username: 'alice', email: 'a@example.org' }).ok,
    ).toBe(true);
    const bad = validatePayload(UserCreatedV1, { userId: 'u', email: 'nope', roles: 'admin' });

    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.errors.map((error) => error.path).sort()).toEqual([
      'email',
      'roles',
      'username',
    ]);
  });

  it('validates PatientRecordAccessed {patientId, recordId, accessedBy}', () => {
    expect(
      validatePayload(PatientRecordAccessedV1, { patientId: 'p', recordId: 'r', accessedBy: 'd' }).ok,
    ).toBe(true);
    expect(validatePayload(PatientRecordAccessedV1, { patientId: 'p', recordId: 'r' }).ok).toBe(false);
  });

  it('accepts a minimal envelope and refuses bad ids, versions and classifications', () => {
    expect(validatePayload(EventEnvelope, { payload: {} }).ok).toBe(true);
    const bad = validatePayload(EventEnvelope, {
      eventId: 'short',
      schemaVersion: '1',
      classification: ['secret'],
      payload: {},
    });

    expect(bad.ok ? [] : bad.errors.map((error) => error.path).sort()).toEqual([
      'classification',
      'eventId',
      'schemaVersion',
    ]);
  });
});
