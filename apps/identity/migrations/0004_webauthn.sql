-- Passkeys (WebAuthn): registered credentials, single-use ceremony challenges, and the key of decoy credential ids.

CREATE TABLE webauthn_credentials (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The authenticator's credential id, base64url; unique across users (an authenticator answers one account).
  credential_id text NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1400),
  -- COSE public key as the authenticator gave it.
  public_key bytea NOT NULL,
  -- Last signature counter seen; 0 for authenticators that do not count.
  sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count BETWEEN 0 AND 4294967295),
  -- WebAuthn user handle (base64url) the passkey was created for; checked on usernameless login.
  user_handle text NOT NULL,
  transports text[] NOT NULL DEFAULT '{}',
  aaguid text NOT NULL,
  device_type text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up boolean NOT NULL,
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 64),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id, created_at);

CREATE TABLE webauthn_challenges (
  -- The ceremony id the client sends back with its response.
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('registration', 'authentication')),
  -- base64url, as it went out in the options.
  challenge text NOT NULL,
  -- Registration: the user registering. Login with a username: that user, or NULL when unknown.
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  -- Login with a username: only that user's passkeys are accepted (and none when user_id is NULL).
  user_bound boolean NOT NULL DEFAULT false,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind = 'authentication' OR (user_id IS NOT NULL AND user_bound))
);

CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges (expires_at);

-- One row: the HMAC key that derives stable decoy credential ids for unknown usernames (no enumeration).
CREATE TABLE webauthn_decoy_key (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key bytea NOT NULL CHECK (length(key) = 32)
);
