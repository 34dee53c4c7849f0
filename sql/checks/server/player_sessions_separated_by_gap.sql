-- check: player_sessions_separated_by_gap
-- asset: player_sessions
-- description: Sessions of one entity never overlap and are separated by more than the gap.
-- Parameters: $since, $gap. Returns the offending rows (none: the check passes).
SELECT *
FROM (
    SELECT player, session_start, session_end,
        lag(session_end) OVER (PARTITION BY player ORDER BY session_start) AS previous_end
    FROM core.player_sessions
    WHERE session_end >= $since - to_seconds($gap)
)
WHERE previous_end IS NOT NULL AND session_start <= previous_end + to_seconds($gap)
