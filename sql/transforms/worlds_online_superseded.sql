-- Stored change points that a recomputation of the window replaces: for each world listed in
-- the window (ddl/25_sightings.sql: core.world_states), those from the window start up to its
-- first listing after the window.
-- Parameters: $window_start, $window_end (inclusive, UTC).
WITH window_names AS (
    SELECT DISTINCT name FROM core.world_states($window_start, $window_end)
),
next_listing AS (
    SELECT l.name, min(l.polled_at) AS seen_at
    FROM core.world_states($window_end + INTERVAL 1 MICROSECOND, TIMESTAMP '9999-12-31') AS l
    JOIN window_names USING (name)
    GROUP BY l.name
)
SELECT w.name, w.saved_at
FROM core.worlds_online w JOIN window_names USING (name) LEFT JOIN next_listing n USING (name)
WHERE w.saved_at >= $window_start AND w.saved_at <= coalesce(n.seen_at, $window_end)
