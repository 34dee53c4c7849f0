-- Every (world, poll) sighting in a window of polls, by clean name.
-- Parameters: $window_start, $window_end (inclusive, UTC).
SELECT DISTINCT name AS entity, polled_at AS seen_at
FROM raw.raw_world_polls
WHERE status = 'ok' AND name IS NOT NULL AND name <> ''
  AND polled_at BETWEEN $window_start AND $window_end
