-- Plugins, their approved manifests and pending upgrades, health, registration tokens and versioned config.
-- A revoked plugin is deleted (with its config); its `vivified_plugins` entry stays, with status revoked.
CREATE TABLE plugins (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('pending_approval', 'active', 'disabled')),
  name text NOT NULL,
  version text NOT NULL,
  description text NOT NULL,
  -- the manifest in force (before the first approval: the one waiting for it)
  manifest jsonb NOT NULL,
  manifest_digest text NOT NULL,
  -- approved traits, canonical names; empty until the first approval
  traits text[] NOT NULL DEFAULT '{}',
  sensitive jsonb NOT NULL,
  -- an upgrade that asks for more than the approved version, waiting for an approval
  pending_manifest jsonb,
  pending_digest text,
  pending_sensitive jsonb,
  registered_by text NOT NULL,
  registered_at timestamptz NOT NULL,
  approved_by text,
  approved_at timestamptz,
  activated_at timestamptz,
  updated_at timestamptz NOT NULL,
  health text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'degraded', 'unhealthy')),
  health_reported text CHECK (health_reported IN ('ok', 'degraded')),
  last_heartbeat_at timestamptz
);

CREATE INDEX plugins_status_idx ON plugins (status);

CREATE TABLE registration_tokens (
  id uuid PRIMARY KEY,
  -- keyed hash (HMAC-SHA256) of the token; the token itself is never stored
  token_hash text NOT NULL UNIQUE,
  plugin_id text,
  note text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_for text
);

CREATE TABLE plugin_config_versions (
  plugin_id text NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  -- the values without the secret fields
  config jsonb NOT NULL,
  -- dotted path of a secret field -> its value sealed with the envelope cipher (AAD names plugin and path)
  secrets jsonb NOT NULL DEFAULT '{}',
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (plugin_id, version)
);
