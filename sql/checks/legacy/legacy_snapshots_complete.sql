-- check: legacy_snapshots_complete
-- asset: legacy_history
-- description: Every imported snapshot week holds exactly the accounts the import wrote (unless a later tai crawl replaced that week).
-- Returns the offending rows (none: the check passes).
WITH held AS (
    SELECT snapshot_week, snapshot_time, count(*) AS accounts
    FROM core.players_snapshot
    WHERE snapshot_week IN (SELECT snapshot_week FROM raw.legacy_snapshots)
    GROUP BY snapshot_week, snapshot_time
)
SELECT l.snapshot_week, l.snapshot_time, l.accounts AS imported, h.accounts AS held
FROM raw.legacy_snapshots AS l
LEFT JOIN held AS h ON h.snapshot_week = l.snapshot_week AND h.snapshot_time = l.snapshot_time
WHERE coalesce(h.accounts, 0) <> l.accounts
  AND NOT EXISTS (
      SELECT 1 FROM held AS o
      WHERE o.snapshot_week = l.snapshot_week AND o.snapshot_time > l.snapshot_time
  )
