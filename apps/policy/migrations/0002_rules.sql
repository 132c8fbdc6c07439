-- Admin rules (ARCHITECTURE §7: operator allowlist, proxy approvals, break-glass grants) with their history.
-- Tables are created in policy's schema (the runner sets search_path). Bundles are compiled from the current rule
-- set; bundle.version = rule set version (ADR-0006).

-- Every saved version, append-only: the audit of who changed what, when and why.
CREATE TABLE IF NOT EXISTS rule_history (
  version bigint PRIMARY KEY CHECK (version >= 1),
  rules jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
  changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 200),
  changed_at timestamptz NOT NULL,
  reason text CHECK (reason IS NULL OR length(reason) <= 500)
);

CREATE OR REPLACE FUNCTION rule_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rule_history is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS rule_history_append_only ON rule_history;
CREATE TRIGGER rule_history_append_only BEFORE UPDATE OR DELETE ON rule_history
  FOR EACH ROW EXECUTE FUNCTION rule_history_append_only();
DROP TRIGGER IF EXISTS rule_history_no_truncate ON rule_history;
CREATE TRIGGER rule_history_no_truncate BEFORE TRUNCATE ON rule_history
  FOR EACH STATEMENT EXECUTE FUNCTION rule_history_append_only();

-- The current rule set: one row, pointing at its version in the history. Absent means version 0, no rules.
CREATE TABLE IF NOT EXISTS current_rules (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL REFERENCES rule_history (version),
  rules jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL
);
