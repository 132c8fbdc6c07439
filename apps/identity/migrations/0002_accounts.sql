-- Accounts: users, roles and the traits they grant, login state (lockout, per-IP throttle), TOTP and backup codes.
-- Tables are created in identity's schema (the runner sets search_path). See docs/identity.md.

CREATE TABLE IF NOT EXISTS roles (
  name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,62}$'),
  description text NOT NULL,
  -- The traits a holder of the role gets; a user's traits are the union over its roles.
  traits text[] NOT NULL,
  -- Holders must enrol a second factor (TOTP) before a login opens a session.
  mfa_required boolean NOT NULL DEFAULT false,
  builtin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Default roles (ARCHITECTURE §4). admin is deliberately not a PHI key: handles_phi comes from phi_handler only.
INSERT INTO roles (name, description, traits, mfa_required, builtin) VALUES
  ('admin', 'Full administration of the platform (no PHI access by itself)',
   ARRAY['admin', 'user_manager', 'plugin_manager', 'config_manager', 'audit_viewer', 'system_monitor', 'viewer',
         'ui.admin', 'ui.automations', 'ui.config', 'ui.plugins', 'ui.audit', 'ui.users', 'ui.monitoring',
         'ui.gateway', 'ui.messaging', 'ui.canonical', 'ui.policy', 'ui.register', 'ui.storage',
         'ui.jobs', 'ui.dashboard'],
   true, true),
  ('operator', 'Operates plugins and watches the platform',
   ARRAY['operator', 'plugin_manager', 'audit_viewer', 'system_monitor', 'viewer',
         'ui.plugins', 'ui.audit', 'ui.monitoring', 'ui.dashboard'],
   false, true),
  ('viewer', 'Read-only access',
   ARRAY['viewer', 'ui.dashboard'],
   false, true),
  ('developer', 'Plugin development and testing',
   ARRAY['developer', 'viewer', 'ui.plugin_dev_guide', 'ui.dashboard'],
   false, true),
  ('phi_handler', 'Works with Protected Health Information',
   ARRAY['handles_phi', 'audit_required', 'encryption_required', 'viewer', 'ui.dashboard'],
   true, true),
  ('pii_handler', 'Works with Personally Identifiable Information',
   ARRAY['handles_pii', 'audit_required', 'viewer', 'ui.dashboard'],
   false, true),
  ('security_admin', 'Security administration: keys, sessions, audit',
   ARRAY['security_admin', 'audit_viewer', 'viewer', 'ui.audit', 'ui.dashboard'],
   true, true),
  ('compliance_officer', 'Compliance review: audit trail and reports',
   ARRAY['compliance_officer', 'audit_viewer', 'viewer', 'ui.audit', 'ui.dashboard'],
   true, true)
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text NOT NULL UNIQUE CHECK (username = lower(username) AND username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  email text CHECK (email IS NULL OR length(email) <= 254),
  display_name text CHECK (display_name IS NULL OR length(display_name) <= 200),
  -- argon2id PHC string (parameters inside, so a cost change re-hashes on the next login).
  password_hash text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  must_change_password boolean NOT NULL DEFAULT false,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE IF NOT EXISTS user_roles (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL REFERENCES roles (name),
  assigned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role)
);

CREATE INDEX IF NOT EXISTS user_roles_role_idx ON user_roles (role);

-- Lockout state; replicas share it. Rows are updated under SELECT … FOR UPDATE.
CREATE TABLE IF NOT EXISTS user_login_state (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- Failures since the last successful login or lockout.
  failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  -- Lockouts since the last successful login (each one doubles the next lock).
  lockouts integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
  locked_until timestamptz,
  last_failure_at timestamptz
);

-- Failed logins per client address in a fixed window; the address is stored as a keyed hash only.
CREATE TABLE IF NOT EXISTS login_throttle (
  ip_hash text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL CHECK (failures >= 0)
);

CREATE INDEX IF NOT EXISTS login_throttle_window_idx ON login_throttle (window_start);

-- TOTP (RFC 6238). Secrets are sealed with libs/crypto (AAD identity.totp:<user id>).
CREATE TABLE IF NOT EXISTS user_totp (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- Set once enrolment is confirmed with a first code.
  secret_sealed text,
  enabled_at timestamptz,
  -- Set by setup and cleared by enable.
  pending_secret_sealed text,
  pending_created_at timestamptz,
  -- Highest time step accepted; a code of this step or an earlier one is refused (no replay).
  last_step bigint,
  CHECK ((secret_sealed IS NULL) = (enabled_at IS NULL))
);

-- Backup codes: keyed hashes (HMAC-SHA256), single use.
CREATE TABLE IF NOT EXISTS backup_codes (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);
