-- Per world, in the window [$start, $end): its sessions overlapping it, those that started in
-- it, and its player-hours: each count of core.worlds_online lasts until the world's next
-- change point, counted only while the world has a session (a world that closed holds no
-- players, whatever its last count was), clipped to the window.
-- Parameters: $start, $end (naive UTC).
--
-- One sweep per world in time order: its sessions' starts and ends and its change points.
-- Between one event and the next, the world holds the last count seen and is open when the
-- last session event seen is a start (a world's sessions never overlap; a session of length
-- zero holds no time and is left out). Counts from before the first session are needed only
-- as the count it opens with: the last one at or before that instant. (Forward-filling the
-- last start-or-end costs DuckDB half what a running sum of +1/−1 does.)
WITH sessions AS (
    SELECT name, session_start, session_end
    FROM core.world_sessions
    WHERE session_end >= $start AND session_start < $end
),
opening AS (
    SELECT min(session_start) AS first_start FROM sessions
),
events AS (
    SELECT name, session_start AS ts, 1 AS opens, NULL::INTEGER AS players FROM sessions
    WHERE session_end > session_start
    UNION ALL
    SELECT name, session_end, -1, NULL FROM sessions WHERE session_end > session_start
    UNION ALL
    SELECT o.name, o.saved_at, 0, o.players
    FROM core.worlds_online AS o
    WHERE o.name IN (SELECT name FROM sessions)
      AND o.saved_at > (SELECT first_start FROM opening) AND o.saved_at < $end
    UNION ALL
    SELECT o.name, max(o.saved_at), 0, arg_max(o.players, o.saved_at)
    FROM core.worlds_online AS o
    WHERE o.name IN (SELECT name FROM sessions)
      AND o.saved_at <= (SELECT first_start FROM opening)
    GROUP BY o.name
),
swept AS (
    SELECT name, ts,
        coalesce(lead(ts) OVER w, $end::TIMESTAMP) AS next_ts,
        last_value(nullif(opens, 0) IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS open,
        last_value(players IGNORE NULLS)
            OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS players
    FROM events
    WINDOW w AS (PARTITION BY name ORDER BY ts, opens)
),
hours AS (
    SELECT name,
        sum(players * epoch(least(next_ts, $end) - greatest(ts, $start))) / 3600.0
            AS player_hours
    FROM swept
    WHERE open > 0 AND players IS NOT NULL AND least(next_ts, $end) > greatest(ts, $start)
    GROUP BY name
)
SELECT s.name,
    count(*) FILTER (WHERE s.session_start >= $start) AS sessions_started,
    coalesce(max(h.player_hours), 0.0) AS player_hours
FROM sessions AS s
LEFT JOIN hours AS h USING (name)
GROUP BY s.name
ORDER BY s.name
