-- Calls per queue, event, agent and UTC half hour, with their talk time, kept by the queue_log
-- importer in the same transaction as the lines: the statistics read a month of outcomes and
-- agent totals from a few thousand rows instead of scanning millions of lines. slot is
-- time_ms / 1,800,000; agent is as in the line (NONE for caller events).
CREATE TABLE queue_log_slots (
    source    TEXT    NOT NULL,
    queue     TEXT    NOT NULL,
    slot      INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    agent     TEXT    NOT NULL,
    calls     INTEGER NOT NULL,
    talk_secs INTEGER NOT NULL,
    PRIMARY KEY (source, queue, slot, event, agent)
);
INSERT INTO queue_log_slots (source, queue, slot, event, agent, calls, talk_secs)
SELECT source, queue, time_ms / 1800000, event, agent, COUNT(*), COALESCE(SUM(talk_secs), 0) FROM queue_log_events
WHERE event IN ('ENTERQUEUE', 'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', 'DISSUASION',
                'CLOSED', 'COMPLETECALLER', 'COMPLETEAGENT')
GROUP BY source, queue, time_ms / 1800000, event, agent;
