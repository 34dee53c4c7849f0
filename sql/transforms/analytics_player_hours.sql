-- Per player: sessions that start in [$start, $end) and their total length in hours.
SELECT player,
       count(*) AS sessions,
       sum(epoch_us(session_end) - epoch_us(session_start)) / 3.6e9 AS hours
FROM core.player_sessions
WHERE session_start >= $start AND session_start < $end
GROUP BY player
