-- check: world_sessions_end_after_start
-- asset: world_sessions
-- description: Every session ends at or after its start.
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT * FROM core.world_sessions WHERE session_end < session_start AND session_end >= $since
