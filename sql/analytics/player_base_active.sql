-- Accounts of the latest players snapshot active per local month, by month of registration:
-- (month, reg_month, accounts). Parameters: $tz.
WITH latest AS (
    SELECT regdate, coalesce(lastlogin, regdate) AS last_activity
    FROM core.players_snapshot
    WHERE snapshot_week = (SELECT max(snapshot_week) FROM core.players_snapshot)
      AND regdate IS NOT NULL
),
accounts AS (
    SELECT date_trunc('month', (regdate AT TIME ZONE 'UTC') AT TIME ZONE $tz)::DATE AS reg_month,
        greatest(date_trunc('month', (last_activity AT TIME ZONE 'UTC') AT TIME ZONE $tz),
                 date_trunc('month', (regdate AT TIME ZONE 'UTC') AT TIME ZONE $tz))::DATE
            AS last_month
    FROM latest
),
pairs AS (
    SELECT reg_month, last_month, count(*) AS accounts FROM accounts GROUP BY reg_month, last_month
),
months AS (
    SELECT unnest(generate_series(min(reg_month), max(last_month), INTERVAL 1 MONTH))::DATE AS month
    FROM pairs
)
SELECT m.month, p.reg_month, sum(p.accounts)::INTEGER AS accounts
FROM months AS m JOIN pairs AS p ON p.reg_month <= m.month AND p.last_month >= m.month
GROUP BY m.month, p.reg_month
ORDER BY m.month, p.reg_month
