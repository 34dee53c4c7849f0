-- Change points of the server's state (up with a count, or down) for polls in a window (and
-- imported counts: core.server_observations in ddl/25_sightings.sql),
-- plus the first poll after it (whose predecessor may have changed). The state before the window
-- is the last change point already stored.
--
-- An outage is $outage_polls or more consecutive failed ('unreachable') polls; it starts at the
-- first of them. A shorter run of failures (a lost datagram) says nothing about the server: it
-- is skipped, and the state before it carries on. A 'malformed' poll is up, count unknown. The
-- window must hold whole runs of failed polls (server_outage_window.sql widens it).
-- Parameters: $window_start, $window_end (inclusive, UTC), $outage_polls.
WITH next_poll AS (
    SELECT min(polled_at) AS seen_at
    FROM core.server_observations($window_end + INTERVAL 1 MICROSECOND, TIMESTAMP '9999-12-31')
),
flagged AS (
    SELECT polled_at, online, max_players, status = 'unreachable' AS failed
    FROM core.server_observations(
        $window_start, coalesce((SELECT seen_at FROM next_poll), $window_end))
),
runs AS (
    -- Failed polls share a run number with the answered poll before them.
    SELECT *, sum(CASE WHEN failed THEN 0 ELSE 1 END) OVER (ORDER BY polled_at) AS run
    FROM flagged
),
sized AS (
    SELECT *, sum(CASE WHEN failed THEN 1 ELSE 0 END) OVER (PARTITION BY run) AS failures
    FROM runs
),
window_polls AS (
    SELECT
        polled_at,
        CASE WHEN failed THEN 'down' ELSE 'up' END AS status,
        CASE WHEN failed THEN NULL ELSE online END AS online,
        max_players
    FROM sized
    WHERE NOT failed OR failures >= $outage_polls
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
