-- Stored change points that a recomputation of the window replaces.
-- Parameters: $window_start, $window_end (inclusive, UTC).
SELECT changed_at
FROM core.server_online
WHERE changed_at >= $window_start
  AND changed_at <= coalesce(
      (SELECT min(polled_at) FROM raw.raw_server_polls WHERE polled_at > $window_end),
      $window_end)
