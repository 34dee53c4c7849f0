-- check: player_sessions_end_after_start
-- asset: player_sessions
-- description: Every session ends at or after its start.
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT * FROM core.player_sessions WHERE session_end < session_start AND session_end >= $since
