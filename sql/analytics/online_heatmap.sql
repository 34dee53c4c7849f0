-- The average online count per local weekday × hour in [$start, $end), sampled every minute
-- from core.server_online (the state at a minute is the last change point at or before it;
-- a minute while the server is down or its count unknown is left out). Only the window's
-- changes and the one it opens with take part in the as-of join.
-- Parameters: $start, $end (naive UTC), $tz (the report zone).
WITH minutes AS (
    -- range(), not unnest(generate_series()): with its row estimate DuckDB plans an ASOF join
    -- instead of a nested loop over every change point.
    SELECT range AS minute_at FROM range($start::TIMESTAMP, $end::TIMESTAMP, INTERVAL 1 MINUTE)
),
states AS (
    SELECT m.minute_at, s.status, s.online
    FROM minutes AS m
    ASOF LEFT JOIN core.server_online_window($start, $end) AS s ON m.minute_at >= s.changed_at
),
local AS (
    SELECT (minute_at AT TIME ZONE 'UTC') AT TIME ZONE $tz AS local_at, online
    FROM states
    WHERE status = 'up' AND online IS NOT NULL
)
SELECT isodow(local_at)::INTEGER AS weekday, hour(local_at)::INTEGER AS hour,
    avg(online) AS avg_online, count(*)::INTEGER AS minutes_up
FROM local
GROUP BY ALL
ORDER BY weekday, hour
