-- coldgate receiver schema, version 1 (src/receiver/README.md describes every table and view).
-- Keys: (gateway_id, incarnation, seq). De-duplication uses received_ranges, never a unique
-- index over readings: readings may be partitioned by ts (or made a hypertable), and a unique
-- index there must contain the partitioning column, which a seq key does not.

CREATE TABLE gateways (
  gateway_id text PRIMARY KEY,
  latest_incarnation text,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_batch_at timestamptz
);

-- One row per journal of a gateway; the row every writer locks (FOR UPDATE) before it touches
-- that journal's ledger, so concurrent receivers serialise per (gateway, incarnation).
CREATE TABLE incarnations (
  gateway_id text NOT NULL REFERENCES gateways,
  incarnation text NOT NULL,
  records bigint NOT NULL DEFAULT 0,
  duplicates_dropped bigint NOT NULL DEFAULT 0,
  contiguous_through bigint NOT NULL DEFAULT 0,
  highest_seq bigint NOT NULL DEFAULT 0,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_batch_at timestamptz,
  PRIMARY KEY (gateway_id, incarnation)
);

-- The ledger: merged ranges of seqs received, per lane (the chain check needs to know which
-- lane held a seq). A handful of rows per journal: one per hole plus one.
CREATE TABLE received_ranges (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  lane text NOT NULL CHECK (lane IN ('telemetry', 'events')),
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL CHECK (to_seq >= from_seq),
  PRIMARY KEY (gateway_id, incarnation, lane, from_seq),
  FOREIGN KEY (gateway_id, incarnation) REFERENCES incarnations
);

CREATE TABLE readings (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  tq text NOT NULL,
  probe text NOT NULL,
  compartment text,
  value double precision,
  quality text NOT NULL,
  error text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX readings_gateway_ts ON readings (gateway_id, ts);

CREATE TABLE positions (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  tq text NOT NULL,
  mode smallint NOT NULL,
  lat double precision NOT NULL,
  lon double precision NOT NULL,
  speed double precision,
  track double precision,
  alt_msl double precision,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX positions_gateway_ts ON positions (gateway_id, ts);

CREATE TABLE events (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  tq text NOT NULL,
  type text NOT NULL,
  severity text NOT NULL,
  source text,
  message text NOT NULL,
  data jsonb,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_gateway_ts ON events (gateway_id, ts);

-- Declared gaps: gap records from the box (record_seq = the record's own seq) and `not-held`
-- ranges from replay replies (record_seq NULL). covers: the range counts as accounted for in
-- contiguous_through (retention and not-held ranges; an unrecorded-readings gap covers only
-- its own seq, which the ledger holds).
CREATE TABLE gaps (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  reason text NOT NULL,
  covers boolean NOT NULL,
  record_seq bigint,
  count bigint,
  lane text,
  from_ts timestamptz,
  to_ts timestamptz,
  ts timestamptz,
  declared_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (gateway_id, incarnation) REFERENCES incarnations
);
CREATE UNIQUE INDEX gaps_once ON gaps (gateway_id, incarnation, reason, from_seq, to_seq, coalesce(record_seq, 0));

CREATE TABLE gateway_keys (
  gateway_id text PRIMARY KEY,
  public_key text NOT NULL,
  fingerprint text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);

-- Chain state: every chained batch's ends (prev before its first record, head after its
-- last); linked once its prev was checked against the lane's record before it (or the check
-- was found not to apply). breaks: where the chain or a signature failed.
CREATE TABLE chain_batches (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  lane text NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  prev text NOT NULL,
  head text NOT NULL,
  linked boolean NOT NULL DEFAULT false,
  PRIMARY KEY (gateway_id, incarnation, lane, from_seq, to_seq)
);
CREATE INDEX chain_batches_to ON chain_batches (gateway_id, incarnation, lane, to_seq);
CREATE INDEX chain_batches_unlinked ON chain_batches (gateway_id, incarnation) WHERE NOT linked;

CREATE TABLE chain_breaks (
  gateway_id text NOT NULL,
  incarnation text NOT NULL,
  lane text NOT NULL,
  seq bigint NOT NULL,
  kind text NOT NULL,
  message text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chain_breaks_gateway ON chain_breaks (gateway_id, incarnation);

-- Input the receiver refused (it was PUBACKed so the broker does not redeliver it forever).
CREATE TABLE refused (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  topic text NOT NULL,
  gateway_id text,
  kind text NOT NULL,
  message text NOT NULL,
  bytes integer NOT NULL,
  receiver text NOT NULL
);

-- Stable views for consumers: these columns stay; the tables behind them may change.
CREATE VIEW coldgate_readings AS
  SELECT gateway_id, probe, compartment, ts, value, quality, error, tq AS time_quality, incarnation, seq
  FROM readings;
CREATE VIEW coldgate_positions AS
  SELECT gateway_id, ts, mode, lat, lon, speed, track, alt_msl, tq AS time_quality, incarnation, seq
  FROM positions;
CREATE VIEW coldgate_events AS
  SELECT gateway_id, ts, type, severity, source, message, data, tq AS time_quality, incarnation, seq
  FROM events;
CREATE VIEW coldgate_gaps AS
  SELECT gateway_id, incarnation, from_seq, to_seq, reason, count, lane, from_ts, to_ts, ts, declared_at
  FROM gaps;
