-- One row per world session that starts in [$start, $end): its length, peak, number of
-- worlds_online points and popularity score, the area under max(0, players − 1) over the hours
-- since the session start by the trapezoid rule, from the point (0 h, 0 players)
-- (tai_assets/analytics/popularity.py says why). A point belongs to the session of its world
-- whose [start, end] holds it (a world's sessions never overlap).
-- Only sessions with peak ≥ $min_peak, score ≥ $min_score and length ≥ $min_length_hours leave
-- DuckDB (a NULL threshold keeps every session).
WITH sessions AS (
    SELECT name, session_start, session_end
    FROM core.world_sessions
    WHERE session_start >= $start AND session_start < $end
),
-- The sessions' starts and their worlds' points in one time order per world: each point takes
-- the session last opened before it (a start sorts before a point at the same instant), and its
-- predecessor is the previous point of that session or, for the first one, the start itself,
-- the (0 h, 0 players) the curve begins with. One sort serves both.
events AS (
    SELECT name, session_start AS ts, session_start, session_end, NULL::INTEGER AS players
    FROM sessions
    UNION ALL
    SELECT o.name, o.saved_at, NULL, NULL, o.players
    FROM core.worlds_online AS o
    WHERE o.saved_at >= $start
      AND o.saved_at <= (SELECT coalesce(max(session_end), $start) FROM sessions)
      AND o.name IN (SELECT name FROM sessions)
),
ordered AS (
    SELECT name, ts, players,
        last_value(session_start IGNORE NULLS) OVER w AS session_start,
        last_value(session_end IGNORE NULLS) OVER w AS session_end,
        lag(ts) OVER w AS previous_ts,
        coalesce(greatest(lag(players) OVER w - 1, 0), 0) AS previous_y
    FROM events
    WINDOW w AS (
        PARTITION BY name ORDER BY ts, players NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
per_session AS (
    SELECT name, session_start, max(players) AS peak_players, count(*) AS points,
        sum(
            (epoch_us(ts) - epoch_us(previous_ts)) / 3.6e9
            * (greatest(players - 1, 0) + previous_y) / 2.0
        ) AS score
    FROM ordered
    WHERE players IS NOT NULL AND ts <= session_end
    GROUP BY name, session_start
),
scored AS (
    SELECT s.name, s.session_start, s.session_end,
        (epoch_us(s.session_end) - epoch_us(s.session_start)) / 3.6e9 AS length_hours,
        coalesce(p.peak_players, 0)::BIGINT AS peak_players,
        coalesce(p.points, 0)::BIGINT AS points,
        coalesce(p.score, 0.0)::DOUBLE AS score
    FROM sessions AS s
    LEFT JOIN per_session AS p USING (name, session_start)
)
SELECT * FROM scored
WHERE ($min_peak IS NULL OR peak_players >= $min_peak)
  AND ($min_score IS NULL OR score >= $min_score)
  AND ($min_length_hours IS NULL OR length_hours >= $min_length_hours)
ORDER BY session_start, name
