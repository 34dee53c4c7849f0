-- What a sighting is, defined once: a poll that answered ('ok') and lists the player or the world
-- by a non-empty name. Sessions are cut from sightings (transforms/*_points.sql) and the checks
-- verify sessions against them (checks/*/…_boundaries_are_sightings.sql).
-- A 'count_only' or 'unreachable' poll carries no information about who is online.
CREATE OR REPLACE MACRO core.player_sightings(since, until) AS TABLE
    SELECT listed.polled_at AS seen_at, listed.player AS entity
    FROM (
        SELECT polled_at, unnest(player_names) AS player
        FROM raw.raw_server_polls
        WHERE status = 'ok' AND polled_at BETWEEN since AND until
    ) AS listed
    WHERE listed.player IS NOT NULL AND listed.player <> '';

CREATE OR REPLACE MACRO core.world_sightings(since, until) AS TABLE
    SELECT polled_at AS seen_at, name AS entity
    FROM raw.raw_world_polls
    WHERE status = 'ok' AND name IS NOT NULL AND name <> ''
      AND polled_at BETWEEN since AND until;
