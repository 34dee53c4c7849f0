-- Player sessions that start in the window [$start, $end) (naive UTC).
SELECT player, session_start, session_end
FROM core.player_sessions
WHERE session_start >= $start AND session_start < $end
