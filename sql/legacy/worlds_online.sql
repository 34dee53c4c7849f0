-- worlds_online.db → raw.legacy_worlds_online: the valid rows by clean name (see
-- world_sessions.sql), one per (name, saved_at): the row with the larger count, whose static and
-- ssmp come with it (ties broken the same way every time: the file has no key); `copies` counts the rows collapsed.
SELECT name, max(players) AS players,
    first(static ORDER BY players DESC, static DESC NULLS LAST, ssmp DESC NULLS LAST) AS static,
    first(ssmp ORDER BY players DESC, static DESC NULLS LAST, ssmp DESC NULLS LAST) AS ssmp,
    saved_at, count(*) AS copies
FROM (
    SELECT core.clean_world_name(name) AS name,
        CAST(players AS INTEGER) AS players, CAST(static AS BOOLEAN) AS static,
        CAST(ssmp AS BOOLEAN) AS ssmp, CAST(saved_at AS TIMESTAMP) AS saved_at
    FROM legacy_worlds_online.worlds_online
)
WHERE name IS NOT NULL AND name <> '' AND players IS NOT NULL AND saved_at IS NOT NULL
GROUP BY name, saved_at
