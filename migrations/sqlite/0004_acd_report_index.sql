-- The ACD statistics count events per queue, kind and period, and read their figures: one
-- index answers those queries without touching the table; the CDR one likewise for call counts.
DROP INDEX queue_log_events_queue_time;
CREATE INDEX queue_log_events_report
    ON queue_log_events (source, queue, event, time_ms, agent, hold_secs, talk_secs, wait_secs);
CREATE INDEX cdr_records_source_start ON cdr_records (source, start_ms, billsec);
