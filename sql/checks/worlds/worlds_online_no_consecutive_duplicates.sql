-- check: worlds_online_no_consecutive_duplicates
-- asset: worlds_online
-- description: Consecutive rows of one world differ in (players, static, ssmp).
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT *
FROM (
    SELECT name, saved_at, players, static, ssmp,
        lag(players) OVER w AS previous_players,
        lag(static) OVER w AS previous_static,
        lag(ssmp) OVER w AS previous_ssmp
    FROM core.worlds_online
    WHERE saved_at >= $since - INTERVAL 1 DAY
    WINDOW w AS (PARTITION BY name ORDER BY saved_at)
)
WHERE saved_at >= $since AND players = previous_players
  AND static IS NOT DISTINCT FROM previous_static
  AND ssmp IS NOT DISTINCT FROM previous_ssmp
