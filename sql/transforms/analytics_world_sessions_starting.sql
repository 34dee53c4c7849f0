-- World sessions that start in [$start, $end).
SELECT name, session_start, session_end
FROM core.world_sessions
WHERE session_start >= $start AND session_start < $end
