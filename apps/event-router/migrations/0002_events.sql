-- The canonical lane: the schema registry, durable subscriptions and webhook secrets. See docs/events.md.
-- Tables are created in event-router's schema (the runner sets search_path).

-- Registered versions of namespaced plugin event types (canonical types are built in, libs/contracts).
CREATE TABLE IF NOT EXISTS event_types (
  type text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_-]{0,62}(\.[a-z][a-z0-9_-]{0,62}){1,5}$'),
  major integer NOT NULL CHECK (major >= 0),
  minor integer NOT NULL CHECK (minor >= 0),
  owner text NOT NULL,
  classification text[] NOT NULL,
  fields jsonb NOT NULL,
  summary text,
  -- At most one active version per major (the partial unique index below).
  active boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (type, major, minor)
);
CREATE UNIQUE INDEX IF NOT EXISTS event_types_active_per_major ON event_types (type, major) WHERE active;

-- One durable JetStream consumer per plugin and event type; id = the consumer's durable name.
CREATE TABLE IF NOT EXISTS subscriptions (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,200}$'),
  plugin_id text NOT NULL,
  event_type text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('manifest', 'api')),
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'quarantined')),
  max_ack_pending integer NOT NULL DEFAULT 1 CHECK (max_ack_pending BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (plugin_id, event_type)
);
CREATE INDEX IF NOT EXISTS subscriptions_plugin ON subscriptions (plugin_id);

-- The HMAC secret of each HTTP plugin's webhook, sealed with the platform's envelope cipher.
CREATE TABLE IF NOT EXISTS webhook_secrets (
  plugin_id text PRIMARY KEY,
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
