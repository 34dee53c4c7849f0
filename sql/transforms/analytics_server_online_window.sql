-- Online-count changes inside [$start, $end) plus the last change before $start (the state
-- the window opens with).
SELECT changed_at, status, online
FROM core.server_online
WHERE changed_at >= $start AND changed_at < $end
UNION ALL
SELECT changed_at, status, online
FROM (
    SELECT changed_at, status, online
    FROM core.server_online
    WHERE changed_at < $start
    ORDER BY changed_at DESC
    LIMIT 1
)
ORDER BY changed_at
