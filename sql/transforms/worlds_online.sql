-- Change points of each world's (players, static, ssmp) for the worlds listed in a window, plus
-- each one's first listing after the window. When a poll lists a clean name twice, the entry with
-- more players wins; a name with an invalid entry in a poll is unknown in that poll. The state before the window is the last change point already stored.
-- Parameters: $window_start, $window_end (inclusive, UTC).
WITH listings AS (
    SELECT polled_at, name, players, static, ssmp, world_index
    FROM core.world_states($window_start, TIMESTAMP '9999-12-31')  -- ddl/25_sightings.sql
),
best AS (
    SELECT polled_at, name, players, static, ssmp
    FROM listings
    QUALIFY row_number() OVER (
        PARTITION BY polled_at, name ORDER BY players DESC, world_index) = 1
),
window_names AS (
    SELECT DISTINCT name FROM best WHERE polled_at <= $window_end
),
next_listing AS (
    SELECT b.name, min(b.polled_at) AS seen_at
    FROM best b JOIN window_names USING (name)
    WHERE b.polled_at > $window_end
    GROUP BY b.name
),
window_listings AS (
    SELECT b.*
    FROM best b JOIN window_names USING (name) LEFT JOIN next_listing n USING (name)
    WHERE b.polled_at <= coalesce(n.seen_at, $window_end)
),
previous_state AS (
    SELECT w.saved_at AS polled_at, w.name, w.players, w.static, w.ssmp
    FROM core.worlds_online w JOIN window_names USING (name)
    WHERE w.saved_at < $window_start
    QUALIFY row_number() OVER (PARTITION BY w.name ORDER BY w.saved_at DESC) = 1
),
compared AS (
    SELECT *,
        lag(polled_at) OVER w AS previous_at,
        lag(players) OVER w AS previous_players,
        lag(static) OVER w AS previous_static,
        lag(ssmp) OVER w AS previous_ssmp
    FROM (SELECT * FROM previous_state UNION ALL SELECT * FROM window_listings)
    WINDOW w AS (PARTITION BY name ORDER BY polled_at)
)
SELECT name, players, static, ssmp, polled_at AS saved_at
FROM compared
WHERE polled_at >= $window_start
  AND (previous_at IS NULL OR players <> previous_players
       OR static IS DISTINCT FROM previous_static OR ssmp IS DISTINCT FROM previous_ssmp)
ORDER BY name, saved_at
