-- clicks (account_id, template_id, clicked_at) served the dashboard before the
-- rollups did; nothing reads clicks by template any more (dashboards read
-- template_hourly / template_daily, and rebuilding or reconciling an account's
-- rollups finds its clicks through clicks_message_time, which also leads with
-- account_id). Each stored click paid for it: one of the three index entries
-- every click insert writes, on the path that bounds click ingestion.
DROP INDEX IF EXISTS clicks_template_time;
