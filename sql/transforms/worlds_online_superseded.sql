-- Stored change points that a recomputation of the window replaces: for each world listed in
-- the window, those from the window start up to its first listing after the window.
-- Parameters: $window_start, $window_end (inclusive, UTC).
WITH window_names AS (
    SELECT DISTINCT name FROM raw.raw_world_polls
    WHERE status = 'ok' AND name IS NOT NULL AND name <> '' AND players IS NOT NULL
      AND polled_at BETWEEN $window_start AND $window_end
),
next_listing AS (
    SELECT r.name, min(r.polled_at) AS seen_at
    FROM raw.raw_world_polls r JOIN window_names USING (name)
    WHERE r.status = 'ok' AND r.players IS NOT NULL AND r.polled_at > $window_end
    GROUP BY r.name
)
SELECT w.name, w.saved_at
FROM core.worlds_online w JOIN window_names USING (name) LEFT JOIN next_listing n USING (name)
WHERE w.saved_at >= $window_start AND w.saved_at <= coalesce(n.seen_at, $window_end)
