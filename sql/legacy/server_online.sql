-- online.db → raw.legacy_server_online: the valid rows (an instant and a count), one per
-- instant with the larger count (the file has no key); `copies` counts the rows collapsed.
SELECT CAST(queried_at AS TIMESTAMP) AS queried_at, max(online_count) AS online_count,
    count(*) AS copies
FROM legacy_online.online
WHERE queried_at IS NOT NULL AND online_count IS NOT NULL
GROUP BY 1
