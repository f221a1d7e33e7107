-- The facts click ingestion classifies by (when the message was sent, and on
-- which channel) copied onto each link when it is minted. Both are fixed for
-- the life of a link: a message's send time never changes, and the channel is
-- the one the message went out on, whatever the template says later. Stored
-- here, each incoming click is one primary-key probe of smart_urls instead of
-- three (smart_urls, messages, templates), on the path that bounds ingestion.
ALTER TABLE smart_urls
    ADD COLUMN sent_at  timestamptz,
    ADD COLUMN channel  text CHECK (channel IN ('EMAIL', 'SMS'));

UPDATE smart_urls u SET sent_at = m.sent_at, channel = t.channel
FROM messages m, templates t
WHERE m.account_id = u.account_id AND m.message_id = u.message_id
  AND t.account_id = u.account_id AND t.template_id = u.template_id;

ALTER TABLE smart_urls
    ALTER COLUMN sent_at SET NOT NULL,
    ALTER COLUMN channel SET NOT NULL;
