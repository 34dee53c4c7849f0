-- check: legacy_online_in_series
-- asset: legacy_history
-- description: At every imported online count's instant, core.server_online shows the server up with that count (unless a poll of that instant says otherwise).
-- Returns the offending rows (none: the check passes).
SELECT l.queried_at, l.online_count, s.changed_at, s.status, s.online
FROM raw.legacy_server_online AS l
ASOF LEFT JOIN core.server_online AS s ON l.queried_at >= s.changed_at
WHERE NOT EXISTS (SELECT 1 FROM raw.raw_server_polls AS p WHERE p.polled_at = l.queried_at)
  AND (s.status IS DISTINCT FROM 'up' OR s.online IS DISTINCT FROM l.online_count)
