-- check: server_online_no_repeats
-- asset: server_online
-- description: Consecutive rows of the online series differ (a row is a change).
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT *
FROM (
    SELECT changed_at, status, online,
        lag(status) OVER (ORDER BY changed_at) AS previous_status,
        lag(online) OVER (ORDER BY changed_at) AS previous_online
    FROM core.server_online
    WHERE changed_at >= $since - INTERVAL 1 DAY
)
WHERE changed_at >= $since AND status = previous_status
  AND online IS NOT DISTINCT FROM previous_online
