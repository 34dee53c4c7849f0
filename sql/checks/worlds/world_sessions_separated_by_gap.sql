-- check: world_sessions_separated_by_gap
-- asset: world_sessions
-- description: Sessions of one entity never overlap and are separated by more than the gap.
-- Parameters: $since, $gap. Returns the offending rows (none: the check passes).
SELECT *
FROM (
    SELECT name, session_start, session_end,
        lag(session_end) OVER (PARTITION BY name ORDER BY session_start) AS previous_end
    FROM core.world_sessions
    WHERE session_end >= $since - to_seconds($gap)
)
WHERE previous_end IS NOT NULL AND session_start <= previous_end + to_seconds($gap)
