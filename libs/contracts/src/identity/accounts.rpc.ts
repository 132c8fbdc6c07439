/**
 * Request/reply contracts of identity's accounts: login, MFA, WebAuthn, users and roles (ARCHITECTURE §7).
 */
export const accountsContracts = {} as const;
