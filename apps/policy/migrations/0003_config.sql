-- Platform config (ARCHITECTURE §7 GET|PUT /v1/config, docs/config.md): the values set over the catalog's defaults,
-- with an append-only history of who changed which key, when and why. Sensitive values are only ever stored sealed
-- (AES-256-GCM envelope of libs/crypto, AAD policy.config:<key>): a row holds either a plain value or a sealed one.

-- Every saved version, append-only.
CREATE TABLE IF NOT EXISTS config_versions (
  version bigint PRIMARY KEY CHECK (version >= 1),
  changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200),
  changed_at timestamptz NOT NULL,
  reason text CHECK (reason IS NULL OR length(reason) <= 500)
);

-- The keys a version changed: the value before and after (NULL = the default), plain or sealed, never both.
CREATE TABLE IF NOT EXISTS config_changes (
  version bigint NOT NULL REFERENCES config_versions (version),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  old_value jsonb,
  old_sealed text,
  new_value jsonb,
  new_sealed text,
  PRIMARY KEY (version, key),
  CHECK (num_nonnulls(old_value, old_sealed) <= 1 AND num_nonnulls(new_value, new_sealed) <= 1)
);

CREATE OR REPLACE FUNCTION config_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS config_versions_append_only ON config_versions;
CREATE TRIGGER config_versions_append_only BEFORE UPDATE OR DELETE ON config_versions
  FOR EACH ROW EXECUTE FUNCTION config_history_append_only();
DROP TRIGGER IF EXISTS config_versions_no_truncate ON config_versions;
CREATE TRIGGER config_versions_no_truncate BEFORE TRUNCATE ON config_versions
  FOR EACH STATEMENT EXECUTE FUNCTION config_history_append_only();
DROP TRIGGER IF EXISTS config_changes_append_only ON config_changes;
CREATE TRIGGER config_changes_append_only BEFORE UPDATE OR DELETE ON config_changes
  FOR EACH ROW EXECUTE FUNCTION config_history_append_only();
DROP TRIGGER IF EXISTS config_changes_no_truncate ON config_changes;
CREATE TRIGGER config_changes_no_truncate BEFORE TRUNCATE ON config_changes
  FOR EACH STATEMENT EXECUTE FUNCTION config_history_append_only();

-- The values currently set; a key without a row has its default.
CREATE TABLE IF NOT EXISTS config_values (
  key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
  value jsonb,
  sealed text,
  version bigint NOT NULL REFERENCES config_versions (version),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (num_nonnulls(value, sealed) = 1)
);
