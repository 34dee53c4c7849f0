-- Registration and last login of every player in the latest players snapshot.
SELECT snapshot_week, snapshot_time, regdate, lastlogin
FROM core.players_snapshot
WHERE snapshot_week = (SELECT max(snapshot_week) FROM core.players_snapshot)
