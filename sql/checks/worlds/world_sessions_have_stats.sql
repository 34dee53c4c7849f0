-- check: world_sessions_have_stats
-- asset: world_sessions
-- description: Every world session has its points, peak, score and player-hours in core.world_session_stats, for its present end (the digests read them).
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT s.*
FROM core.world_sessions AS s
LEFT JOIN core.world_session_stats AS t USING (name, session_start)
WHERE s.session_end >= $since AND (t.name IS NULL OR t.session_end <> s.session_end)
