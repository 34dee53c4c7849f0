-- Players whose sessions start in [$start, $end), most hours first (then by name), with their
-- sessions and hours; every row also carries the window's active players and sessions, so a
-- digest reads only as many rows as it needs to find its top players.
SELECT player,
    count(*)::BIGINT AS sessions,
    sum(epoch_us(session_end) - epoch_us(session_start)) / 3.6e9 AS hours,
    count(*) OVER ()::BIGINT AS active_players,
    sum(count(*)) OVER ()::BIGINT AS all_sessions
FROM core.player_sessions
WHERE session_start >= $start AND session_start < $end
GROUP BY player
ORDER BY hours DESC, player
