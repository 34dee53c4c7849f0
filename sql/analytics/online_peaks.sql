-- The highest online count per local bucket of [$start, $end) (the report zone $tz; $unit is
-- 'hour' or 'day') and the first instant it was reached, from core.server_online: the window
-- opens with the last change at or before $start, and each count lasts until the next change.
-- A step counts in the bucket where it starts; time while down or with no known count is left
-- out, and so is time before the first known change (unknown is not zero). changed_at is the
-- table's key, so every step has a length and no window function is needed.
WITH steps AS (
    SELECT greatest(changed_at, $start::TIMESTAMP) AS t_from, status, online
    FROM core.server_online_window($start, $end)
),
-- Every zone's offset is a whole number of quarter hours: peaks per UTC quarter first, so only
-- one row a quarter is converted to local time.
quarters AS (
    SELECT time_bucket(INTERVAL 15 MINUTE, t_from) AS quarter, max(online) AS peak_online,
        arg_min(t_from, [-online, epoch_us(t_from)]) AS peak_at
    FROM steps
    WHERE status = 'up' AND online IS NOT NULL
    GROUP BY quarter
)
SELECT date_trunc($unit, (quarter AT TIME ZONE 'UTC') AT TIME ZONE $tz) AS bucket,
    max(peak_online)::BIGINT AS peak_online,
    arg_min(peak_at, [-peak_online, epoch_us(peak_at)]) AS peak_at
FROM quarters
GROUP BY bucket
ORDER BY bucket
