-- check: legacy_world_sessions_in_core
-- asset: legacy_history
-- description: Every imported world session lies inside one session of core.world_sessions.
-- Returns the offending rows (none: the check passes).
SELECT l.*
FROM raw.legacy_world_sessions AS l
WHERE NOT EXISTS (
    SELECT 1 FROM core.world_sessions AS s
    WHERE s.name = l.name AND s.session_start <= l.session_start
      AND s.session_end >= l.session_end
)
