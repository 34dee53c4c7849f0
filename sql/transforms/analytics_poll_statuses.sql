-- Number of server polls per status in [$start, $end): availability = answered / all.
SELECT status, count(*) AS polls
FROM raw.raw_server_polls
WHERE polled_at >= $start AND polled_at < $end
GROUP BY status
