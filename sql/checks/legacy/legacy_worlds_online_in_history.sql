-- check: legacy_worlds_online_in_history
-- asset: legacy_history
-- description: At every imported world count's instant, core.worlds_online shows that world with that count (unless a poll of that instant listed it bigger).
-- Returns the offending rows (none: the check passes).
SELECT l.name, l.saved_at, l.players, w.saved_at AS state_since, w.players AS state_players
FROM raw.legacy_worlds_online AS l
ASOF LEFT JOIN core.worlds_online AS w ON l.name = w.name AND l.saved_at >= w.saved_at
WHERE NOT EXISTS (
    SELECT 1 FROM raw.raw_world_polls AS p
    WHERE p.polled_at = l.saved_at AND p.name = l.name AND p.status = 'ok'
      AND p.players > l.players
)
  AND (w.players IS DISTINCT FROM l.players OR w.static IS DISTINCT FROM l.static
       OR w.ssmp IS DISTINCT FROM l.ssmp)
