-- sessions.db → raw.legacy_player_sessions: the valid rows (a name, a start, an end not before
-- it), one per (player, session_start) with the latest end; `copies` counts the rows collapsed.
SELECT player, session_start, max(session_end) AS session_end, count(*) AS copies
FROM (
    SELECT player, CAST(session_start AS TIMESTAMP) AS session_start,
        CAST(session_end AS TIMESTAMP) AS session_end
    FROM legacy_sessions.sessions
)
WHERE player IS NOT NULL AND player <> '' AND session_start IS NOT NULL
  AND session_end >= session_start
GROUP BY player, session_start
