-- Role-play names (Firstname_Lastname) per local year of registration, latest snapshot.
-- Parameters: $tz.
SELECT year((regdate AT TIME ZONE 'UTC') AT TIME ZONE $tz)::INTEGER AS registration_year,
    count(*)::INTEGER AS accounts,
    count(*) FILTER (WHERE regexp_full_match(login, '[A-Z][a-z]+_[A-Z][a-z]+'))::INTEGER
        AS rp_names
FROM core.players_snapshot
WHERE snapshot_week = (SELECT max(snapshot_week) FROM core.players_snapshot)
  AND regdate IS NOT NULL
GROUP BY 1
ORDER BY 1
