-- check: raw_server_polls_count_covers_names
-- asset: raw_server_polls
-- description: The online count is at least the number of names the poll listed.
-- Parameters: $since. Returns the offending rows (none: the check passes).
SELECT polled_at, online, len(player_names) AS names
FROM raw.raw_server_polls
WHERE polled_at >= $since AND status = 'ok'
  AND (online IS NULL OR online < len(player_names))
