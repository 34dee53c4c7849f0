-- check: legacy_player_sessions_in_core
-- asset: legacy_history
-- description: Every imported player session lies inside one session of core.player_sessions.
-- Returns the offending rows (none: the check passes).
SELECT l.*
FROM raw.legacy_player_sessions AS l
WHERE NOT EXISTS (
    SELECT 1 FROM core.player_sessions AS s
    WHERE s.player = l.player AND s.session_start <= l.session_start
      AND s.session_end >= l.session_end
)
