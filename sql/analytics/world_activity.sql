-- The worlds' activity in the window [$start, $end):
--
-- part = 'session': one row per world session that starts in the window, with its length, peak,
--   number of core.worlds_online points and popularity score (core.world_session_stats, kept by
--   the ingest: sql/transforms/world_session_stats.sql says how each is counted). Only sessions
--   with peak ≥ $min_peak, score ≥ $min_score and length ≥ $min_length_hours leave DuckDB (a
--   NULL threshold keeps every session); with $best_per_world, only each world's best of those
--   (highest score, then peak, then earliest start).
-- part = 'world': one row per world with a session overlapping the window: the sessions that
--   started in it and its player-hours. Each count lasts until the world's next point, counted
--   only while the world has a session (a world that closed holds no players, whatever its
--   last count was), clipped to the window: a session inside the window brings its stored
--   player_hours; only the few crossing an edge of the window are integrated here, from their
--   points near that edge.
-- Parameters: $start, $end (naive UTC), $min_peak, $min_score, $min_length_hours,
-- $best_per_world.
WITH sessions AS (
    SELECT s.name, s.session_start, s.session_end, s.session_start >= $start AS starts_here,
        s.session_start >= $start AND s.session_end <= $end AS inside,
        t.points, t.peak_players, t.score, t.player_hours
    FROM core.world_sessions AS s
    LEFT JOIN core.world_session_stats AS t USING (name, session_start)
    WHERE s.session_end >= $start AND s.session_start < $end
),
-- The sessions crossing an edge of the window, clipped to it: [opens, closes).
crossing AS (
    SELECT name, session_start, session_end,
        greatest(session_start, $start::TIMESTAMP) AS opens,
        least(session_end, $end::TIMESTAMP) AS closes
    FROM sessions
    WHERE NOT inside AND session_end > $start
),
-- Their worlds' points from a day before each edge's first opening to its last closing, each
-- with its neighbours in time (a neighbour outside these spans lies beyond the closing, where
-- the clipping makes it no different from the true one).
spans AS (
    SELECT min(opens) - INTERVAL 1 DAY AS lo, max(closes) AS hi
    FROM crossing
    GROUP BY session_start < $start
),
points AS (
    SELECT name, ts, players, lead(ts) OVER (PARTITION BY name ORDER BY ts) AS next_ts
    FROM (
        SELECT DISTINCT o.name, o.saved_at AS ts, o.players
        FROM core.worlds_online AS o
        JOIN spans ON o.saved_at BETWEEN spans.lo AND spans.hi
        WHERE o.name IN (SELECT name FROM crossing)
    )
),
inner_seconds AS (
    SELECT c.name, c.session_start,
        sum(p.players * (epoch_us(least(coalesce(p.next_ts, c.closes), c.closes)) - epoch_us(p.ts)))
            AS player_us
    FROM crossing AS c
    JOIN points AS p ON p.name = c.name AND p.ts > c.opens AND p.ts < c.closes
    GROUP BY c.name, c.session_start
),
-- The count each crossing session opens with in the window: the last point at or before its
-- opening, found near it or, for the few without one there, further back.
near_opening AS (
    SELECT c.name, c.session_start, c.opens, c.closes, p.players, p.next_ts
    FROM crossing AS c
    ASOF JOIN points AS p ON c.name = p.name AND c.opens >= p.ts
),
without_near AS (
    SELECT c.* FROM crossing AS c ANTI JOIN near_opening AS n USING (name, session_start)
),
far_opening AS (
    SELECT c.name, c.session_start, c.opens, c.closes, f.players,
        (SELECT min(p.ts) FROM points AS p WHERE p.name = c.name AND p.ts > c.opens) AS next_ts
    FROM without_near AS c
    JOIN LATERAL (
        SELECT arg_max(o.players, o.saved_at) AS players
        FROM core.worlds_online AS o
        WHERE o.name = c.name AND o.saved_at <= c.opens
    ) AS f ON f.players IS NOT NULL
),
crossing_hours AS (
    SELECT c.name, c.session_start,
        (coalesce(i.player_us, 0) + coalesce(
            o.players * (epoch_us(least(coalesce(o.next_ts, c.closes), c.closes)) - epoch_us(c.opens)),
            0
        )) / 3.6e9 AS player_hours
    FROM crossing AS c
    LEFT JOIN inner_seconds AS i USING (name, session_start)
    LEFT JOIN (SELECT * FROM near_opening UNION ALL SELECT * FROM far_opening) AS o
        USING (name, session_start)
),
scored AS (
    SELECT name, session_start, session_end,
        (epoch_us(session_end) - epoch_us(session_start)) / 3.6e9 AS length_hours,
        coalesce(peak_players, 0)::BIGINT AS peak_players,
        coalesce(points, 0)::BIGINT AS points,
        coalesce(score, 0.0)::DOUBLE AS score
    FROM sessions
    WHERE starts_here
),
per_world AS (
    SELECT s.name,
        count(*) FILTER (WHERE s.starts_here) AS sessions_started,
        coalesce(sum(CASE WHEN s.inside THEN s.player_hours ELSE c.player_hours END), 0.0)
            AS player_hours
    FROM sessions AS s
    LEFT JOIN crossing_hours AS c USING (name, session_start)
    GROUP BY s.name
)
SELECT 'session' AS part, name, session_start, session_end, length_hours, peak_players, points,
    score, NULL::BIGINT AS sessions_started, NULL::DOUBLE AS player_hours
FROM scored
WHERE ($min_peak IS NULL OR peak_players >= $min_peak)
  AND ($min_score IS NULL OR score >= $min_score)
  AND ($min_length_hours IS NULL OR length_hours >= $min_length_hours)
QUALIFY NOT $best_per_world
    OR row_number() OVER (
        PARTITION BY name ORDER BY score DESC, peak_players DESC, session_start
    ) = 1
UNION ALL
SELECT 'world', name, NULL, NULL, NULL, NULL, NULL, NULL, sessions_started, player_hours
FROM per_world
ORDER BY part, session_start, name
