-- The trail is appended in roughly `ts` order, so a BRIN index answers time-range filters from a few block
-- ranges at a fraction of a B-tree's insert cost (ingest writes every row through each index of the table).
DROP INDEX records_ts;
CREATE INDEX records_ts ON records USING brin (ts) WITH (pages_per_range = 32);
