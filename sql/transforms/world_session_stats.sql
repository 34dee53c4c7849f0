-- Each world session's points, peak, popularity score and player-hours, for the sessions that
-- end at or after $since (NULL: every session). The digests read these rows for the sessions
-- inside their window instead of sorting every point of it (sql/analytics/world_activity.sql
-- defines the same measures clipped to a window):
--   points, peak_players: the core.worlds_online points in [session_start, session_end] that
--     belong to the session (a point belongs to the last session of its world started at or
--     before it);
--   score: the area under max(0, players − 1) over the hours since the session start by the
--     trapezoid rule, from the point (0 h, 0 players) (tai_assets/analytics/popularity.py);
--   player_hours: the count integrated over [session_start, session_end): a count lasts until
--     the world's next point, and a session opens with the last count at or before its start.
-- Both are summed exactly, in microseconds (times players, twice for the trapezoids), and
-- divided once: the same session gives the same figures whichever batch computed them.
WITH sessions AS (
    SELECT name, session_start, session_end
    FROM core.world_sessions
    WHERE $since IS NULL OR session_end >= $since
),
bounds AS (SELECT min(session_start) AS first_start, max(session_end) AS last_end FROM sessions),
-- The points of these worlds from a day before the first session on (a day back holds almost
-- every session's opening count), each with its neighbours in time.
points AS (
    SELECT name, saved_at AS ts, players,
        lag(saved_at) OVER w AS previous_ts,
        lag(players) OVER w AS previous_players,
        lead(saved_at) OVER w AS next_ts
    FROM core.worlds_online
    WHERE name IN (SELECT DISTINCT name FROM sessions)
      AND saved_at >= (SELECT first_start FROM bounds) - INTERVAL 1 DAY
      AND saved_at <= (SELECT last_end FROM bounds)
    WINDOW w AS (PARTITION BY name ORDER BY saved_at)
),
placed AS (
    SELECT p.*, s.session_start, s.session_end
    FROM points AS p
    ASOF JOIN sessions AS s ON p.name = s.name AND p.ts >= s.session_start
),
-- A point's predecessor is the session's previous point or, for its first point, the session
-- start at 0 players.
per_session AS (
    SELECT name, session_start,
        count(*) FILTER (WHERE ts <= session_end) AS points,
        max(players) FILTER (WHERE ts <= session_end) AS peak_players,
        sum(
            CASE WHEN previous_ts >= session_start
                THEN (epoch_us(ts) - epoch_us(previous_ts))
                    * (greatest(players - 1, 0) + greatest(previous_players - 1, 0))
                ELSE (epoch_us(ts) - epoch_us(session_start)) * greatest(players - 1, 0)
            END
        ) FILTER (WHERE ts <= session_end) AS score_us2,
        sum(players * (epoch_us(least(coalesce(next_ts, session_end), session_end)) - epoch_us(ts)))
            FILTER (WHERE ts > session_start AND ts < session_end) AS inner_us
    FROM placed
    GROUP BY name, session_start
),
-- The count each session opens with: the last point at or before its start, found a day back
-- or, for the few sessions without one there, further back.
near_opening AS (
    SELECT s.name, s.session_start, s.session_end, p.players, p.next_ts
    FROM sessions AS s
    ASOF JOIN points AS p ON s.name = p.name AND s.session_start >= p.ts
),
without_near AS (
    SELECT s.* FROM sessions AS s ANTI JOIN near_opening AS n USING (name, session_start)
),
far_opening AS (
    SELECT s.name, s.session_start, s.session_end, f.players,
        (SELECT min(p.ts) FROM points AS p WHERE p.name = s.name) AS next_ts
    FROM without_near AS s
    JOIN (
        SELECT o.name, arg_max(o.players, o.saved_at) AS players
        FROM core.worlds_online AS o
        WHERE o.name IN (SELECT name FROM without_near)
          AND o.saved_at < (SELECT first_start FROM bounds) - INTERVAL 1 DAY
        GROUP BY o.name
    ) AS f USING (name)
),
opening AS (
    SELECT name, session_start,
        players * (epoch_us(least(coalesce(next_ts, session_end), session_end))
            - epoch_us(session_start)) AS opening_us
    FROM (SELECT * FROM near_opening UNION ALL SELECT * FROM far_opening)
)
SELECT s.name, s.session_start, s.session_end,
    coalesce(p.points, 0)::INTEGER AS points,
    coalesce(p.peak_players, 0)::INTEGER AS peak_players,
    (coalesce(p.score_us2, 0) / 7.2e9)::DOUBLE AS score,
    ((coalesce(p.inner_us, 0) + coalesce(o.opening_us, 0)) / 3.6e9)::DOUBLE AS player_hours
FROM sessions AS s
LEFT JOIN per_session AS p USING (name, session_start)
LEFT JOIN opening AS o USING (name, session_start)
