-- Per world, in the window [$start, $end): its sessions overlapping it, those that started in
-- it, and its player-hours: each count of core.worlds_online lasts until the world's next
-- change point, counted only while the world has a session (a world that closed holds no
-- players, whatever its last count was), clipped to the window.
-- Parameters: $start, $end (naive UTC).
WITH sessions AS (
    SELECT name, session_start, session_end
    FROM core.world_sessions
    WHERE session_end >= $start AND session_start < $end
),
states AS (
    SELECT name, players, saved_at AS state_start,
        lead(saved_at, 1, TIMESTAMP '9999-12-31') OVER (PARTITION BY name ORDER BY saved_at)
            AS state_end
    FROM core.worlds_online
    WHERE name IN (SELECT name FROM sessions) AND saved_at < $end
),
pieces AS (
    SELECT st.name, st.players,
        greatest(st.state_start, se.session_start, $start) AS piece_start,
        least(st.state_end, se.session_end, $end) AS piece_end
    FROM states AS st
    JOIN sessions AS se
      ON se.name = st.name AND st.state_start < se.session_end AND st.state_end > se.session_start
)
SELECT s.name,
    count(*) FILTER (WHERE s.session_start >= $start) AS sessions_started,
    coalesce(max(h.player_hours), 0.0) AS player_hours
FROM sessions AS s
LEFT JOIN (
    SELECT name, sum(players * epoch(piece_end - piece_start)) / 3600.0 AS player_hours
    FROM pieces WHERE piece_end > piece_start
    GROUP BY name
) AS h USING (name)
GROUP BY s.name
ORDER BY s.name
