-- Gaps and islands: merges spans of sightings (_points) and already known sessions (_existing) of
-- each entity into sessions. A span that starts more than $gap_seconds after everything before it
-- reached starts a new session; otherwise it extends the current one. UNION, not UNION ALL: a
-- span equal to a stored session (a batch run again) would otherwise be a tie in the ordering,
-- which the two windows may break differently, splitting or wrongly merging sessions.
-- Sorted by session_end: written in this order (a full rebuild), the table stays clustered by
-- session_end as batch-by-batch writes leave it, so the lookup of the sessions around a window
-- (derive.py) reads the few row groups that end late enough instead of the whole table.
WITH spans AS (
    SELECT entity, span_start, span_end FROM _points
    UNION
    SELECT entity, session_start, session_end FROM _existing
),
reached AS (
    SELECT *,
        max(span_end) OVER (
            PARTITION BY entity ORDER BY span_start, span_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS reach
    FROM spans
),
numbered AS (
    SELECT *,
        sum(CASE WHEN reach IS NULL OR span_start > reach + to_seconds($gap_seconds) THEN 1 ELSE 0 END)
            OVER (PARTITION BY entity ORDER BY span_start, span_end ROWS UNBOUNDED PRECEDING)
            AS session_no
    FROM reached
)
SELECT entity, min(span_start) AS session_start, max(span_end) AS session_end
FROM numbered
GROUP BY entity, session_no
ORDER BY session_end, entity
