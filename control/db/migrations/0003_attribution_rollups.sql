-- Attribution windows, cancellations and refunds, per-person dedupe, hourly
-- rollups for the dashboards, and clicks partitioned by time.

-- How long after a message is sent its conversions count for it.
ALTER TABLE templates
    ADD COLUMN attribution_window_seconds int NOT NULL DEFAULT 2592000
        CHECK (attribution_window_seconds BETWEEN 3600 AND 7776000);

-- The chain (click, link, message, template) is kept whenever it is known, also
-- for unattributed outcomes, so ExplainConversion can show it; attributed means
-- "no reason".
ALTER TABLE conversions DROP CONSTRAINT conversions_check;
ALTER TABLE conversions DROP CONSTRAINT conversions_unattributed_reason_check;
ALTER TABLE conversions ADD CONSTRAINT conversions_unattributed_reason_check
    CHECK (unattributed_reason IN ('NO_SOURCE', 'UNKNOWN_SOURCE', 'SHORTCODE_MISMATCH',
                                   'WINDOW_EXPIRED', 'NON_HUMAN_CLICK',
                                   'SENT_BEFORE_SMART_URLS'));
ALTER TABLE conversions
    -- Who converted, for "once per person per message": the caller's customer id
    -- when given, else the click that carried mbsy_source, else the external id.
    ADD COLUMN customer_id     text NOT NULL DEFAULT '',
    ADD COLUMN person_key      text NOT NULL DEFAULT '',
    ADD COLUMN cancelled_at    timestamptz,
    ADD COLUMN refunded_minor  bigint NOT NULL DEFAULT 0
        CHECK (refunded_minor BETWEEN 0 AND amount_minor),
    -- The window that applied when the outcome was judged.
    ADD COLUMN window_seconds  int;
-- The same keys attribution.person_key makes, so outcomes recorded before and
-- after this migration dedupe against each other.
UPDATE conversions SET person_key = CASE
    WHEN kind = 'SHARE' THEN 'advocate'
    WHEN click_id IS NOT NULL THEN 'click:' || click_id
    ELSE 'external:' || external_id END;
CREATE INDEX conversions_click ON conversions (click_id) WHERE click_id IS NOT NULL;
CREATE INDEX conversions_person ON conversions (account_id, message_id, kind, person_key)
    WHERE message_id IS NOT NULL;
DROP INDEX conversions_template_time;
CREATE INDEX conversions_template_time ON conversions (account_id, template_id, occurred_at)
    WHERE template_id IS NOT NULL;

-- Refunds of an order, keyed by the merchant's refund id (idempotent).
CREATE TABLE refunds (
    account_id     bigint NOT NULL,
    conversion_id  bigint NOT NULL,
    refund_id      text NOT NULL,
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversion_id, refund_id),
    FOREIGN KEY (account_id, conversion_id) REFERENCES conversions
);

-- A message's first human click on its own links: it is the message's one
-- unique clicker, counted in that click's hour.
ALTER TABLE messages ADD COLUMN first_click_at timestamptz;

-- Per template per hour. Traffic columns are incremented as clicks and messages
-- arrive; outcome columns are recomputed for the hours an outcome touches.
CREATE TABLE template_hourly (
    account_id       bigint NOT NULL,
    template_id      bigint NOT NULL,
    hour             timestamptz NOT NULL,
    messages_sent    bigint NOT NULL DEFAULT 0,
    clicks           bigint NOT NULL DEFAULT 0,
    unique_clickers  bigint NOT NULL DEFAULT 0,
    friend_clicks    bigint NOT NULL DEFAULT 0,
    scanner_hits     bigint NOT NULL DEFAULT 0,
    preview_hits     bigint NOT NULL DEFAULT 0,
    bot_hits         bigint NOT NULL DEFAULT 0,
    shares           bigint NOT NULL DEFAULT 0,
    unique_sharers   bigint NOT NULL DEFAULT 0,
    signups          bigint NOT NULL DEFAULT 0,
    unique_signups   bigint NOT NULL DEFAULT 0,
    orders           bigint NOT NULL DEFAULT 0,
    unique_buyers    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, template_id, hour)
);

-- Net revenue (amount less refunds) of counted orders, per currency.
CREATE TABLE template_hourly_revenue (
    account_id    bigint NOT NULL,
    template_id   bigint NOT NULL,
    hour          timestamptz NOT NULL,
    currency      text NOT NULL,
    revenue_minor numeric NOT NULL,
    PRIMARY KEY (account_id, template_id, hour, currency)
);

-- Clicks become range-partitioned by clicked_at (control/domain/partitions.py
-- creates partitions ahead and drops the ones past retention). The key must
-- contain the partition column; click_id alone stays the identity, since a
-- resent click carries the same clicked_at.
ALTER TABLE clicks RENAME TO clicks_unpartitioned;
ALTER INDEX clicks_pkey RENAME TO clicks_unpartitioned_pkey;
ALTER INDEX clicks_template_time RENAME TO clicks_unpartitioned_template_time;
ALTER INDEX clicks_message_time RENAME TO clicks_unpartitioned_message_time;
CREATE TABLE clicks (
    LIKE clicks_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (click_id, clicked_at)
) PARTITION BY RANGE (clicked_at);
CREATE INDEX clicks_template_time ON clicks (account_id, template_id, clicked_at);
CREATE INDEX clicks_message_time ON clicks (account_id, message_id, clicked_at);

-- One partition per existing week, then the rows, then the old table goes.
DO $$
DECLARE
    week timestamptz;
BEGIN
    FOR week IN
        SELECT DISTINCT date_trunc('week', clicked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        FROM clicks_unpartitioned
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
            'clicks_' || to_char(week AT TIME ZONE 'UTC', 'YYYYMMDD'),
            week, week + interval '7 days');
    END LOOP;
END $$;
INSERT INTO clicks SELECT * FROM clicks_unpartitioned;
DROP TABLE clicks_unpartitioned;

-- The same figures per UTC day, kept by the same deltas: an account's list over
-- 90 days reads ~90 rows per template instead of ~2,160.
CREATE TABLE template_daily (LIKE template_hourly INCLUDING DEFAULTS);
ALTER TABLE template_daily RENAME COLUMN hour TO day;
ALTER TABLE template_daily ADD PRIMARY KEY (account_id, template_id, day);
CREATE TABLE template_daily_revenue (LIKE template_hourly_revenue INCLUDING DEFAULTS);
ALTER TABLE template_daily_revenue RENAME COLUMN hour TO day;
ALTER TABLE template_daily_revenue ADD PRIMARY KEY (account_id, template_id, day, currency);

-- Rollups for the facts stored before this migration are built by the control
-- plane at its next start (rollups.rebuild), before it drops any partition
-- past retention: see control/server.py.
CREATE TABLE rollups_pending (account_id bigint PRIMARY KEY);
INSERT INTO rollups_pending SELECT account_id FROM accounts
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.account_id = accounts.account_id);
