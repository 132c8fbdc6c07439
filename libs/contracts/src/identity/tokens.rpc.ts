/**
 * Request/reply contracts of identity's tokens: refresh, logout, plugin/service/API-key tokens, JWKS, key
 * rotation, plugin credentials and API keys (ARCHITECTURE §4).
 */
export const tokensContracts = {} as const;
