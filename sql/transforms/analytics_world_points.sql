-- worlds_online points that can lie inside a world session starting in [$start, $end):
-- same world name, saved between the window start and the latest end of those sessions.
WITH s AS (
    SELECT name, session_start, session_end
    FROM core.world_sessions
    WHERE session_start >= $start AND session_start < $end
)
SELECT o.name, o.players, o.saved_at
FROM core.worlds_online AS o
WHERE o.saved_at >= $start
  AND o.saved_at <= (SELECT coalesce(max(session_end), $start) FROM s)
  AND o.name IN (SELECT DISTINCT name FROM s)
