-- check: raw_server_polls_unique_and_past
-- asset: raw_server_polls
-- description: Poll instants are unique and none lies in the future.
-- Parameters: $since, $now. Returns the offending rows (none: the check passes).
SELECT polled_at, count(*) AS n
FROM raw.raw_server_polls
WHERE polled_at >= $since
GROUP BY polled_at
HAVING count(*) > 1 OR polled_at > $now + INTERVAL 1 MINUTE
