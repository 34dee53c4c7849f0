-- First session ever of every player active in [$start, $end): tells new players apart.
SELECT player, min(session_start) AS first_start
FROM core.player_sessions
WHERE player IN (
    SELECT DISTINCT player FROM core.player_sessions
    WHERE session_start < $end AND session_end >= $start
)
GROUP BY player
