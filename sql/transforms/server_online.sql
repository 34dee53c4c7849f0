-- Change points of the server's state (up with a count, or down) for polls in a window,
-- plus the first poll after it (whose predecessor may have changed). The state before the window
-- is the last change point already stored.
-- Parameters: $window_start, $window_end (inclusive, UTC).
WITH next_poll AS (
    SELECT min(polled_at) AS seen_at FROM raw.raw_server_polls WHERE polled_at > $window_end
),
window_polls AS (
    SELECT
        polled_at,
        CASE WHEN status = 'unreachable' THEN 'down' ELSE 'up' END AS status,
        CASE WHEN status = 'unreachable' THEN NULL ELSE online END AS online,
        max_players
    FROM raw.raw_server_polls
    WHERE polled_at >= $window_start
      AND polled_at <= coalesce((SELECT seen_at FROM next_poll), $window_end)
),
previous_state AS (
    SELECT changed_at AS polled_at, status, online, max_players
    FROM core.server_online
    WHERE changed_at < $window_start
    ORDER BY changed_at DESC
    LIMIT 1
),
compared AS (
    SELECT *,
        lag(status) OVER (ORDER BY polled_at) AS previous_status,
        lag(online) OVER (ORDER BY polled_at) AS previous_online
    FROM (SELECT * FROM previous_state UNION ALL SELECT * FROM window_polls)
)
SELECT polled_at AS changed_at, status, online, max_players
FROM compared
WHERE polled_at >= $window_start
  AND (previous_status IS NULL OR status <> previous_status
       OR online IS DISTINCT FROM previous_online)
ORDER BY changed_at
