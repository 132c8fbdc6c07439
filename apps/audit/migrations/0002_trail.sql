-- The audit trail: append-only rows in a hash chain, partitioned by the month they were stored, with signed
-- checkpoints. The database itself refuses UPDATE, DELETE and TRUNCATE on the trail (trigger + privileges);
-- only dropping a whole expired partition (retention, after a checkpoint recording it) removes rows.

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TABLE records (
  seq bigint NOT NULL,
  id uuid NOT NULL,
  ts timestamptz NOT NULL,
  stored_at timestamptz NOT NULL,
  category text NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  target text,
  plugin_id text,
  trace_id text,
  classification text[] NOT NULL,
  phi_involved boolean NOT NULL,
  service text NOT NULL,
  details jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (seq, stored_at)
) PARTITION BY RANGE (stored_at);

CREATE INDEX records_ts ON records (ts);
CREATE INDEX records_actor ON records (actor_id, seq);
CREATE INDEX records_trace ON records (trace_id) WHERE trace_id IS NOT NULL;

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON records FROM PUBLIC;

-- Ids already stored: a redelivered record is skipped (INSERT … ON CONFLICT (id) DO NOTHING). Not the trail
-- itself, so retention may delete ids of dropped partitions.
CREATE TABLE record_ids (
  id uuid PRIMARY KEY,
  stored_at timestamptz NOT NULL DEFAULT now()
);

-- The end of the chain, updated by the one writer holding the chain lock.
CREATE TABLE chain_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  hash text NOT NULL,
  since_checkpoint bigint NOT NULL
);
INSERT INTO chain_head (seq, hash, since_checkpoint) VALUES (0, repeat('0', 64), 0);

-- Ed25519 keys that sign checkpoints; private keys sealed with the deployment's KEK.
CREATE TABLE signing_keys (
  id text PRIMARY KEY,
  public_key text NOT NULL,
  private_key_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER signing_keys_append_only BEFORE UPDATE OR DELETE ON signing_keys
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Signed checkpoints; each signs the previous one's signature (CloudTrail-style digest chain).
CREATE TABLE checkpoints (
  n bigint PRIMARY KEY,
  seq_to bigint NOT NULL,
  head_hash text NOT NULL,
  prev_signature text NOT NULL,
  dropped jsonb NOT NULL,
  key_id text NOT NULL REFERENCES signing_keys (id),
  created_at timestamptz NOT NULL,
  signature text NOT NULL
);
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON checkpoints, signing_keys FROM PUBLIC;

-- Verification results, for the compliance report and the metrics.
CREATE TABLE verifications (
  id bigserial PRIMARY KEY,
  ok boolean NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  rows_checked bigint NOT NULL,
  problem jsonb,
  verified_at timestamptz NOT NULL DEFAULT now()
);
