-- A window of server polls widened to whole runs of failed ('unreachable') polls at its edges:
-- whether a failed poll is part of an outage depends on how many failed polls surround it
-- (server_online.sql), so a recomputation must see each run it touches whole.
-- Parameters: $window_start, $window_end (inclusive, UTC). Returns the widened bounds.
WITH answered_before AS (
    SELECT max(polled_at) AS at
    FROM core.server_observations(TIMESTAMP '0001-01-01', $window_start - INTERVAL 1 MICROSECOND)
    WHERE status <> 'unreachable'
),
answered_after AS (
    SELECT min(polled_at) AS at
    FROM core.server_observations($window_end + INTERVAL 1 MICROSECOND, TIMESTAMP '9999-12-31')
    WHERE status <> 'unreachable'
)
SELECT
    coalesce((
        SELECT min(p.polled_at) FROM raw.raw_server_polls AS p, answered_before AS b
        WHERE p.status = 'unreachable' AND p.polled_at < $window_start
          AND (b.at IS NULL OR p.polled_at > b.at)
    ), $window_start) AS window_start,
    coalesce((
        SELECT max(p.polled_at) FROM raw.raw_server_polls AS p, answered_after AS a
        WHERE p.status = 'unreachable' AND p.polled_at > $window_end
          AND (a.at IS NULL OR p.polled_at < a.at)
    ), $window_end) AS window_end
