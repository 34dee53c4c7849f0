-- check: raw_world_polls_unique_and_past
-- asset: raw_world_polls
-- description: Each (poll, world index) is unique and no poll lies in the future.
-- Parameters: $since, $now. Returns the offending rows (none: the check passes).
SELECT polled_at, world_index, count(*) AS n
FROM raw.raw_world_polls
WHERE polled_at >= $since
GROUP BY polled_at, world_index
HAVING count(*) > 1 OR polled_at > $now + INTERVAL 1 MINUTE
