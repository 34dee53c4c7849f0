-- The week and row count of the latest players snapshot before a given week (parameter).
SELECT snapshot_week, count(*)
FROM core.players_snapshot
WHERE snapshot_week = (
    SELECT max(snapshot_week) FROM core.players_snapshot WHERE snapshot_week < ?
)
GROUP BY snapshot_week
