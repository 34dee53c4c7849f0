-- One row per player from core.player_sessions, with the account of that login in the latest
-- players snapshot. Parameters: $now (naive UTC), $tz (the report zone).
WITH sessions AS (
    SELECT player, session_start, session_end,
        epoch(session_end - session_start) / 3600.0 AS hours
    FROM core.player_sessions
),
recent AS (
    -- Hours inside the last 7 and 30 days (sessions cut at the window start).
    SELECT player,
        sum(epoch(session_end - greatest(session_start, $now - INTERVAL 7 DAY)) / 3600.0)
            FILTER (WHERE session_end > $now - INTERVAL 7 DAY) AS h7,
        sum(epoch(session_end - greatest(session_start, $now - INTERVAL 30 DAY)) / 3600.0)
            FILTER (WHERE session_end > $now - INTERVAL 30 DAY) AS h30
    FROM sessions GROUP BY player
),
usual AS (
    SELECT player, hour((session_start AT TIME ZONE 'UTC') AT TIME ZONE $tz)::INTEGER AS hour,
        count(*) AS n
    FROM sessions GROUP BY 1, 2
    QUALIFY row_number() OVER (PARTITION BY player ORDER BY n DESC, hour) = 1
),
accounts AS (
    SELECT login, id, regdate
    FROM core.players_snapshot
    WHERE snapshot_week = (SELECT max(snapshot_week) FROM core.players_snapshot)
    QUALIFY row_number() OVER (PARTITION BY login ORDER BY id) = 1
)
SELECT s.player, min(s.session_start) AS first_seen, max(s.session_end) AS last_seen,
    count(*)::INTEGER AS sessions, sum(s.hours) AS total_hours,
    coalesce(any_value(r.h7), 0.0) AS hours_last_7_days,
    coalesce(any_value(r.h30), 0.0) AS hours_last_30_days,
    median(s.hours) * 60 AS median_session_minutes,
    any_value(u.hour) AS usual_hour,
    any_value(a.id) AS account_id, any_value(a.regdate) AS regdate
FROM sessions AS s
JOIN recent AS r USING (player)
JOIN usual AS u USING (player)
LEFT JOIN accounts AS a ON a.login = s.player
GROUP BY s.player
ORDER BY total_hours DESC, s.player
