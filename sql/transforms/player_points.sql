-- Every (player, poll) sighting in a window of polls. Only 'ok' polls list names: a
-- 'count_only' or 'unreachable' poll carries no information about who is online.
-- Parameters: $window_start, $window_end (inclusive, UTC).
SELECT DISTINCT listed.player AS entity, listed.polled_at AS seen_at
FROM (
    SELECT polled_at, unnest(player_names) AS player
    FROM raw.raw_server_polls
    WHERE status = 'ok' AND polled_at BETWEEN $window_start AND $window_end
) AS listed
WHERE listed.player IS NOT NULL AND listed.player <> ''
