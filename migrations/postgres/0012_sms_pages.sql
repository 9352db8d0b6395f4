-- SMS campaign, monitoring and reply pages.
-- sms_parts.imei: the modem that sent the part, kept when its group and modems are deleted
--   (sms_parts.modem_id then becomes NULL).
-- sms_parts_sent: the monitoring pages count parts sent in the last 24 hours per modem.
-- sms_messages_campaign_order: a campaign's messages are listed and exported in id order.
-- sms_opt_outs.source: 'reply' (the number answered STOP) or 'user' (added by hand).

ALTER TABLE sms_parts ADD COLUMN imei TEXT NOT NULL DEFAULT '';
CREATE INDEX sms_parts_sent ON sms_parts (sent_at);
CREATE INDEX sms_messages_campaign_order ON sms_messages (campaign_id, id);
ALTER TABLE sms_opt_outs ADD COLUMN source TEXT NOT NULL DEFAULT 'reply';
