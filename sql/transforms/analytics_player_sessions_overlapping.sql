-- Player sessions that overlap the window [$start, $end) (naive UTC).
SELECT player, session_start, session_end
FROM core.player_sessions
WHERE session_start < $end AND session_end >= $start
