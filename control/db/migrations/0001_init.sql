-- Every table carries account_id (and leads its keys with it) so the schema can
-- be distributed by account on Citus later. The one exception is the global
-- smart_url_id: a token carries nothing but it.

CREATE TABLE accounts (
    account_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL,
    smart_urls_enabled  boolean NOT NULL DEFAULT false,
    share_domain        text UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE templates (
    account_id   bigint NOT NULL REFERENCES accounts,
    template_id  bigint GENERATED ALWAYS AS IDENTITY,
    name         text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('EMAIL', 'SMS')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, template_id),
    UNIQUE (template_id)
);

-- The goal history: the row with the latest effective_from is the current goal;
-- goal NULL means "no goal".
CREATE TABLE template_goals (
    account_id      bigint NOT NULL,
    template_id     bigint NOT NULL,
    goal            text CHECK (goal IN ('ADVOCATE_SHARE', 'SIGNUPS', 'ORDERS')),
    effective_from  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (account_id, template_id, effective_from),
    FOREIGN KEY (account_id, template_id) REFERENCES templates
);

CREATE TABLE template_links (
    account_id       bigint NOT NULL,
    template_id      bigint NOT NULL,
    name             text NOT NULL,
    position         int NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('SHARE', 'ENROLLMENT', 'REFERRAL', 'TRACKED')),
    destination_url  text NOT NULL,
    network          text,
    share_text       text NOT NULL DEFAULT '',
    share_subject    text NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, template_id, name),
    FOREIGN KEY (account_id, template_id) REFERENCES templates,
    CHECK ((kind = 'SHARE') = (network IS NOT NULL))
);

-- One row per message sent with Smart URLs. share_domain is the domain at send
-- time: links keep working on it after the account moves to another domain.
CREATE TABLE messages (
    account_id           bigint NOT NULL,
    message_id           bigint GENERATED ALWAYS AS IDENTITY,
    external_message_id  text NOT NULL,
    template_id          bigint NOT NULL,
    advocate_shortcode   text NOT NULL DEFAULT '',
    share_domain         text NOT NULL,
    sent_at              timestamptz NOT NULL,
    PRIMARY KEY (account_id, message_id),
    UNIQUE (account_id, external_message_id),
    FOREIGN KEY (account_id, template_id) REFERENCES templates
);
CREATE INDEX messages_template_sent ON messages (account_id, template_id, sent_at);

-- One row per link of a message, plus one SHARED_REFERRAL row per share button
-- that was clicked (parent_smart_url_id points at the share button).
CREATE TABLE smart_urls (
    smart_url_id         bigint PRIMARY KEY,
    account_id           bigint NOT NULL,
    message_id           bigint NOT NULL,
    template_id          bigint NOT NULL,
    link_name            text NOT NULL,
    kind                 text NOT NULL
        CHECK (kind IN ('SHARE', 'ENROLLMENT', 'REFERRAL', 'TRACKED', 'SHARED_REFERRAL')),
    key_id               text NOT NULL,
    parent_smart_url_id  bigint REFERENCES smart_urls,
    created_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, message_id) REFERENCES messages
);
CREATE INDEX smart_urls_message ON smart_urls (account_id, message_id);
-- Partial, so that "parent_smart_url_id IS NULL" (every minted link) can never
-- be planned through it.
CREATE UNIQUE INDEX smart_urls_parent ON smart_urls (parent_smart_url_id)
    WHERE parent_smart_url_id IS NOT NULL;
-- Ids come from a sequence, not IDENTITY, so minting can reserve a block of ids
-- in one call and build the rows (and tokens) client-side.
CREATE SEQUENCE smart_url_ids AS bigint START 1000;

-- Every hit the edge answered, keyed by the edge's UUIDv7.
CREATE TABLE clicks (
    click_id      uuid PRIMARY KEY,
    account_id    bigint NOT NULL,
    smart_url_id  bigint NOT NULL REFERENCES smart_urls,
    message_id    bigint NOT NULL,
    template_id   bigint NOT NULL,
    kind          text NOT NULL,
    clicked_at    timestamptz NOT NULL,
    method        text NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    ip_prefix     cidr,
    referer       text NOT NULL DEFAULT '',
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clicks_template_time ON clicks (account_id, template_id, clicked_at);

-- Shares (from share-button clicks), signups and orders. Unattributed outcomes
-- are kept too, with the reason.
CREATE TABLE conversions (
    account_id           bigint NOT NULL REFERENCES accounts,
    conversion_id        bigint GENERATED ALWAYS AS IDENTITY,
    kind                 text NOT NULL CHECK (kind IN ('SHARE', 'SIGNUP', 'ORDER')),
    external_id          text NOT NULL,
    mbsy_source          text NOT NULL DEFAULT '',
    shortcode            text NOT NULL DEFAULT '',
    click_id             uuid,
    smart_url_id         bigint REFERENCES smart_urls,
    message_id           bigint,
    template_id          bigint,
    unattributed_reason  text
        CHECK (unattributed_reason IN ('NO_SOURCE', 'UNKNOWN_SOURCE', 'SHORTCODE_MISMATCH')),
    amount_minor         bigint NOT NULL DEFAULT 0,
    currency             text NOT NULL DEFAULT '',
    occurred_at          timestamptz NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, conversion_id),
    UNIQUE (account_id, kind, external_id),
    CHECK ((message_id IS NULL) = (unattributed_reason IS NOT NULL))
);
CREATE INDEX conversions_template_time ON conversions (account_id, template_id, occurred_at)
    WHERE template_id IS NOT NULL;
