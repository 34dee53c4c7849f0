-- The worlds' activity in the window [$start, $end), from one sweep of their sessions and points:
--
-- part = 'session': one row per world session that starts in the window, with its length, peak,
--   number of core.worlds_online points and popularity score: the area under
--   max(0, players − 1) over the hours since the session start by the trapezoid rule, from the
--   point (0 h, 0 players) (tai_assets/analytics/popularity.py says why). A point belongs to the
--   session of its world whose [start, end] holds it (a world's sessions never overlap). Only
--   sessions with peak ≥ $min_peak, score ≥ $min_score and length ≥ $min_length_hours leave
--   DuckDB (a NULL threshold keeps every session); with $best_per_world, only each world's
--   best of those (highest score, then peak, then earliest start).
-- part = 'world': one row per world with a session overlapping the window: the sessions that
--   started in it and its player-hours. Each count lasts until the world's next change point,
--   counted only while the world has a session (a world that closed holds no players, whatever
--   its last count was), clipped to the window.
--
-- One time order per world of its sessions' starts and ends and its points serves both (sorting
-- a year's million points is most of the cost). At one instant an end sorts first, then a start,
-- then a point: a session ending as the next starts leaves the world open, and a point at a
-- session's start belongs to that session. Counts from before the first session are needed only
-- as the count it opens with: the last one at or before that instant.
-- Parameters: $start, $end (naive UTC), $min_peak, $min_score, $min_length_hours,
-- $best_per_world.
WITH sessions AS (
    -- world: a small number per name, which sorts faster than the name itself
    SELECT name, dense_rank() OVER (ORDER BY name)::INTEGER AS world,
        session_start, session_end, session_start >= $start AS starts_here
    FROM core.world_sessions
    WHERE session_end >= $start AND session_start < $end
),
worlds AS (SELECT DISTINCT name, world FROM sessions),
bounds AS (
    SELECT min(session_start) AS first_start,
        -- the last instant a point can count: a session starting in the window may end after it
        greatest(max(session_end) FILTER (WHERE starts_here), $end::TIMESTAMP) AS last_point
    FROM sessions
),
-- Each world's last point at or before the first session start: the count it opens with. A
-- day back holds it for almost every world; only the others are looked up further back, so a
-- month's digest does not aggregate every point of the half year before it.
recent_opening AS (
    SELECT name, max(o.saved_at) AS saved_at, arg_max(o.players, o.saved_at) AS players
    FROM core.worlds_online AS o
    WHERE o.name IN (SELECT name FROM worlds)
      AND o.saved_at <= (SELECT first_start FROM bounds)
      AND o.saved_at > (SELECT first_start FROM bounds) - INTERVAL 1 DAY
    GROUP BY name
),
opening_counts AS (
    SELECT w.world, r.saved_at, r.players
    FROM recent_opening AS r
    JOIN worlds AS w USING (name)
    UNION ALL
    SELECT w.world, max(o.saved_at), arg_max(o.players, o.saved_at)
    FROM core.worlds_online AS o
    JOIN worlds AS w USING (name)
    WHERE w.name NOT IN (SELECT name FROM recent_opening)
      AND o.saved_at <= (SELECT first_start FROM bounds) - INTERVAL 1 DAY
    GROUP BY w.world
),
events AS (
    -- kind 1: a session's start, carrying its [start, end]; 0: its end; 2: a point. A world's
    -- sessions never overlap, so it is open after an event exactly when the event comes
    -- before the end of the last session started (a session of length zero is never open).
    SELECT world, session_start AS ts, 1 AS kind,
        session_start, session_end, NULL::INTEGER AS players
    FROM sessions
    UNION ALL
    SELECT world, session_end, 0, NULL, NULL, NULL FROM sessions
    UNION ALL
    SELECT w.world, o.saved_at, 2, NULL, NULL, o.players
    FROM core.worlds_online AS o
    JOIN worlds AS w USING (name)
    WHERE o.saved_at > (SELECT first_start FROM bounds)
      AND o.saved_at <= (SELECT last_point FROM bounds)
    UNION ALL
    SELECT world, saved_at, 2, NULL, NULL, players FROM opening_counts
),
-- Per event: the next event's instant, the last session started, and the last point before.
swept AS (
    SELECT world, ts, kind, players,
        coalesce(lead(ts) OVER w, $end::TIMESTAMP) AS next_ts,
        last_value(session_start IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS in_session,
        last_value(session_end IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS in_session_end,
        last_value(CASE WHEN kind = 2 THEN ts END IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_ts,
        last_value(players IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_players
    FROM events
    WINDOW w AS (PARTITION BY world ORDER BY ts, kind)
),
-- One pass over the sweep, per world and session in progress (the last one started; NULL before
-- the world's first): the session's points, peak and score, and the player-hours of the events
-- while it is open. A point's predecessor is the session's previous point or, for its first
-- point, the session start at 0 players. The count after an event is a point's own, else the
-- last point's.
per_session AS (
    SELECT world, in_session AS session_start,
        max(players) FILTER (WHERE is_point) AS peak_players,
        count(*) FILTER (WHERE is_point) AS points,
        sum(
            CASE WHEN previous_ts >= in_session
                THEN (epoch_us(ts) - epoch_us(previous_ts)) / 3.6e9
                    * (greatest(players - 1, 0) + greatest(previous_players - 1, 0)) / 2.0
                ELSE (epoch_us(ts) - epoch_us(in_session)) / 3.6e9
                    * greatest(players - 1, 0) / 2.0
            END
        ) FILTER (WHERE is_point) AS score,
        sum(
            coalesce(players, previous_players)
            * epoch(least(next_ts, $end) - greatest(ts, $start))
        ) FILTER (
            WHERE ts < in_session_end
              AND coalesce(players, previous_players) IS NOT NULL
              AND least(next_ts, $end) > greatest(ts, $start)
        ) / 3600.0 AS player_hours
    FROM (
        SELECT *, kind = 2 AND in_session >= $start AND ts <= in_session_end AS is_point
        FROM swept
    )
    WHERE in_session IS NOT NULL
    GROUP BY world, in_session
),
scored AS (
    SELECT s.name, s.session_start, s.session_end,
        (epoch_us(s.session_end) - epoch_us(s.session_start)) / 3.6e9 AS length_hours,
        coalesce(p.peak_players, 0)::BIGINT AS peak_players,
        coalesce(p.points, 0)::BIGINT AS points,
        coalesce(p.score, 0.0)::DOUBLE AS score
    FROM sessions AS s
    LEFT JOIN per_session AS p USING (world, session_start)
    WHERE s.starts_here
),
per_world AS (
    SELECT s.name,
        count(*) FILTER (WHERE s.starts_here) AS sessions_started,
        coalesce(sum(p.player_hours), 0.0) AS player_hours
    FROM sessions AS s
    LEFT JOIN per_session AS p USING (world, session_start)
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
