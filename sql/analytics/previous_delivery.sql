-- How a digest period was delivered before (status, attempts), so a period is posted once.
-- Parameters: period kind ('day' | 'week' | 'month' | 'year'), period start (local date).
SELECT delivery_status, delivery_attempts
FROM (
    SELECT 'day' AS kind, period_start, delivery_status, delivery_attempts
    FROM analytics.daily_digest
    UNION ALL
    SELECT 'week', period_start, delivery_status, delivery_attempts FROM analytics.weekly_digest
    UNION ALL
    SELECT 'month', period_start, delivery_status, delivery_attempts FROM analytics.monthly_digest
    UNION ALL
    SELECT 'year', period_start, delivery_status, delivery_attempts FROM analytics.yearly_digest
)
WHERE kind = ? AND period_start = ?
