-- API keys: every gRPC call presents one. Only a SHA-256 of the whole key is
-- kept: the secret is 32 random bytes, so a slow password hash would add
-- latency to every call and no strength.

CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    key_hash    bytea NOT NULL CHECK (length(key_hash) = 32),
    role        text NOT NULL
                CHECK (role IN ('admin', 'sender', 'dashboard', 'merchant', 'edge')),
    -- NULL for the global roles; the one account a sender, dashboard or merchant acts on.
    account_id  bigint REFERENCES accounts (account_id),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role IN ('admin', 'edge')) = (account_id IS NULL))
);
CREATE INDEX api_keys_account ON api_keys (account_id) WHERE account_id IS NOT NULL;
