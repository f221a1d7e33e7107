-- The burst rule (several different links of one message clicked within two
-- seconds) asks, for each new click and each other link of its message,
-- whether that link was clicked within the window: one probe here, however
-- many clicks the link or the message takes, where a scan of the message's
-- window grew with the square of a hot message's click rate.
CREATE INDEX clicks_message_link_time ON clicks (account_id, message_id, smart_url_id, clicked_at);
-- And which stored clicks of another link, not yet marked as a burst, lie
-- within the window of a new click: a click leaves this index once marked, so
-- each is found once, not again for every later click near it.
CREATE INDEX clicks_unmarked ON clicks (account_id, message_id, smart_url_id, clicked_at)
    WHERE NOT ('burst' = ANY (reasons));
-- A message whose first human click the burst rule took away looks up the next
-- one: among its human clicks only, not through every click of a hot message.
CREATE INDEX clicks_first_human ON clicks (account_id, message_id, clicked_at)
    WHERE hit_class = 'human' AND kind <> 'SHARED_REFERRAL';
-- Everything that looked up a message's clicks by time now goes through the
-- three above.
DROP INDEX clicks_message_time;
