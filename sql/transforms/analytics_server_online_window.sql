-- Online-count changes inside [$start, $end) plus the last change before $start (the state
-- the window opens with), in time order.
SELECT * FROM core.server_online_window($start, $end) ORDER BY changed_at
