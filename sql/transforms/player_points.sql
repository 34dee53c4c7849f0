-- Every player's sightings in a window of polls, as spans: the first and last poll that lists the
-- player within each stretch of $gap_seconds. Two sightings closer than the gap always belong to
-- one session, so merge_sessions.sql gives exactly the same sessions from these spans as from
-- every (player, poll) sighting, while sorting a few rows per session instead of one per poll.
-- Only 'ok' polls list names: a 'count_only' or 'unreachable' poll carries no information about
-- who is online.
-- Parameters: $window_start, $window_end (inclusive, UTC), $gap_seconds.
SELECT listed.player AS entity,
    min(listed.polled_at) AS span_start,
    max(listed.polled_at) AS span_end
FROM (
    SELECT polled_at, unnest(player_names) AS player
    FROM raw.raw_server_polls
    WHERE status = 'ok' AND polled_at BETWEEN $window_start AND $window_end
) AS listed
WHERE listed.player IS NOT NULL AND listed.player <> ''
GROUP BY listed.player,
    CASE WHEN $gap_seconds > 0 THEN time_bucket(to_seconds($gap_seconds), listed.polled_at)
         ELSE listed.polled_at END
