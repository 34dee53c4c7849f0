-- Gaps and islands: merges sightings (_points) and already known sessions (_existing) of each
-- entity into sessions. A span that starts more than $gap_seconds after everything before it
-- reached starts a new session; otherwise it extends the current one.
WITH spans AS (
    SELECT entity, seen_at AS span_start, seen_at AS span_end FROM _points
    UNION ALL
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
ORDER BY entity, session_start
