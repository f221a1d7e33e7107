-- Preview cards, link changes the edges must follow, revocation, and hit classes.

ALTER TABLE template_links
    ADD COLUMN og_title        text NOT NULL DEFAULT '',
    ADD COLUMN og_description  text NOT NULL DEFAULT '',
    ADD COLUMN og_image_url    text NOT NULL DEFAULT '';

-- version goes up with every link change; edges drop cached links of older versions.
ALTER TABLE templates
    ADD COLUMN version     bigint NOT NULL DEFAULT 1,
    ADD COLUMN updated_at  timestamptz NOT NULL DEFAULT now();
CREATE INDEX templates_updated ON templates (updated_at);

ALTER TABLE smart_urls ADD COLUMN revoked_at timestamptz;
-- Also on the message: a share's referral link minted while the message is
-- being revoked must not outlive it (resolution checks both).
ALTER TABLE messages ADD COLUMN revoked_at timestamptz;
CREATE INDEX smart_urls_revoked ON smart_urls (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every hit is kept with its class and the reasons, so it can be reclassified;
-- only 'human' hits are clicks.
ALTER TABLE clicks
    ADD COLUMN hit_class  text NOT NULL DEFAULT 'human'
        CHECK (hit_class IN ('human', 'scanner', 'preview', 'bot')),
    ADD COLUMN reasons    text[] NOT NULL DEFAULT '{}';
-- Ingest joins smart_urls anyway; the per-row foreign-key check only costs.
ALTER TABLE clicks DROP CONSTRAINT clicks_smart_url_id_fkey;
-- Burst detection looks at one message's recent hits.
CREATE INDEX clicks_message_time ON clicks (account_id, message_id, clicked_at);
