-- Tokens: signing keys, sessions and refresh tokens, plugin credentials, API keys (ADR-0005).
-- Tables are created in identity's schema (the runner sets search_path). Secrets are never stored in clear:
-- private keys are sealed with libs/crypto, refresh tokens, client secrets and API keys are keyed hashes.

-- Ed25519 signing keys. Exactly one is current; a previous key verifies until retires_at, then is retired.
CREATE TABLE IF NOT EXISTS signing_keys (
  kid text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{16,64}$'),
  -- OKP public JWK {kty, crv, x}.
  public_jwk jsonb NOT NULL,
  -- PKCS#8 private key sealed with libs/crypto, AAD identity.signing-key:<kid>.
  private_sealed text NOT NULL,
  created_at timestamptz NOT NULL,
  retires_at timestamptz,
  status text NOT NULL CHECK (status IN ('current', 'previous', 'retired')),
  CHECK ((status = 'current') = (retires_at IS NULL))
);

CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_current ON signing_keys ((true)) WHERE status = 'current';

-- A session is a refresh-token family opened by one login; id is the `sid` claim.
CREATE TABLE IF NOT EXISTS sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  -- Absolute end, whatever the use.
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoke_reason text CHECK (revoke_reason IS NULL OR length(revoke_reason) <= 100),
  method text NOT NULL CHECK (length(method) <= 40),
  ip text CHECK (ip IS NULL OR length(ip) <= 64),
  user_agent text CHECK (user_agent IS NULL OR length(user_agent) <= 512),
  CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);

CREATE INDEX IF NOT EXISTS sessions_user_open_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Opaque single-use refresh tokens, stored as keyed hashes (HMAC-SHA256, purpose identity.refresh-token).
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  used_at timestamptz,
  created_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS refresh_tokens_session_idx ON refresh_tokens (session_id);

-- A plugin's client secret (256-bit random) as a keyed hash; one per plugin, replaced on re-issue.
CREATE TABLE IF NOT EXISTS plugin_credentials (
  plugin_id text PRIMARY KEY CHECK (plugin_id ~ '^[a-z][a-z0-9-]{2,62}$'),
  secret_hash text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);

-- A user's API keys as keyed hashes; tokens from a key carry the owner's traits narrowed to its scopes.
CREATE TABLE IF NOT EXISTS api_keys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz
);

CREATE INDEX IF NOT EXISTS api_keys_user_idx ON api_keys (user_id, created_at DESC);
