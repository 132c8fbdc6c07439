/**
 * Request/reply contracts of identity's passkeys: WebAuthn registration and login ceremonies, credential list
 * and removal (ARCHITECTURE §7).
 */
export const webauthnContracts = {} as const;
