-- Accounts whose login differs between two consecutive snapshots they appear in.
WITH seen AS (
    SELECT id, login, snapshot_week,
        lag(login) OVER (PARTITION BY id ORDER BY snapshot_week) AS previous_login,
        lag(snapshot_week) OVER (PARTITION BY id ORDER BY snapshot_week) AS previous_week
    FROM core.players_snapshot
)
SELECT id AS account_id, previous_login AS old_login, login AS new_login,
    previous_week AS last_week_old, snapshot_week AS first_week_new
FROM seen
WHERE previous_login IS NOT NULL AND previous_login <> login
ORDER BY first_week_new, account_id
