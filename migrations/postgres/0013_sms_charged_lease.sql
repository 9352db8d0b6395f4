-- sms_messages.charged_lease: the lease under which the message's parts were debited. A lease
--   claims a message and sets its charge in one statement, which returns only new values; a
--   message whose charged_lease is the lease just taken must be debited now.

ALTER TABLE sms_messages ADD COLUMN charged_lease BIGINT NOT NULL DEFAULT 0;
