-- Churn per local week: regulars of the 30 days before the week (sessions on >= 4 distinct
-- local days) who start no session in the 30 days from the week's start; weeks whose 30 days
-- ended before $now. Parameters: $tz, $now (naive UTC).
WITH days AS (
    SELECT DISTINCT player,
        ((session_start AT TIME ZONE 'UTC') AT TIME ZONE $tz)::DATE AS day
    FROM core.player_sessions
),
weeks AS (
    SELECT unnest(generate_series(
        date_trunc('week', min(day)) + INTERVAL 7 DAY, date_trunc('week', max(day)),
        INTERVAL 7 DAY))::DATE
        AS week
    FROM days
),
regular AS (
    SELECT w.week, d.player
    FROM weeks AS w JOIN days AS d ON d.day >= w.week - 30 AND d.day < w.week
    GROUP BY w.week, d.player
    HAVING count(*) >= 4
),
seen_after AS (
    SELECT DISTINCT r.week, r.player
    FROM regular AS r JOIN days AS d
      ON d.player = r.player AND d.day >= r.week AND d.day < r.week + 30
)
SELECT r.week, count(*)::INTEGER AS regulars,
    (count(*) - count(s.player))::INTEGER AS churned,
    (count(*) - count(s.player)) / count(*) AS share
FROM regular AS r LEFT JOIN seen_after AS s USING (week, player)
WHERE r.week + 30 <= ((($now::TIMESTAMP) AT TIME ZONE 'UTC') AT TIME ZONE $tz)::DATE
GROUP BY r.week
ORDER BY r.week
