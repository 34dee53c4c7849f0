-- Stored change points that a recomputation of the window replaces.
-- Parameters: $window_start, $window_end (inclusive, UTC).
SELECT changed_at
FROM core.server_online
WHERE changed_at >= $window_start
  AND changed_at <= coalesce(
      (SELECT min(polled_at) FROM core.server_observations(
          $window_end + INTERVAL 1 MICROSECOND, TIMESTAMP '9999-12-31')),
      $window_end)
