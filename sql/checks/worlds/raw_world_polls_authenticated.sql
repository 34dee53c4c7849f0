-- check: raw_world_polls_authenticated
-- asset: raw_world_polls
-- description: The chrono API accepts CHRONO_LOGIN / CHRONO_TOKEN: fails while the newest world poll was refused (auth_failed), e.g. after the token expired.
-- Parameters: none. Returns the offending rows (none: the check passes).
SELECT polled_at, status, error
FROM raw.raw_world_polls
WHERE status = 'auth_failed'
  AND polled_at = (SELECT max(polled_at) FROM raw.raw_world_polls)
