-- What a sighting is, defined once. Sessions are cut from sightings (transforms/*_points.sql),
-- the worlds' history from listings (transforms/worlds_online.sql), and the checks verify
-- sessions against sightings (checks/*/…_boundaries_are_sightings.sql).
--
-- A player is sighted by a poll that answered ('ok') and lists them by a non-empty name. A
-- 'count_only', 'malformed' or 'unreachable' poll carries no information about who is online.
CREATE OR REPLACE MACRO core.player_sightings(since, until) AS TABLE
    SELECT listed.polled_at AS seen_at, listed.player AS entity
    FROM (
        SELECT polled_at, unnest(player_names) AS player
        FROM raw.raw_server_polls
        WHERE status = 'ok' AND polled_at BETWEEN since AND until
    ) AS listed
    WHERE listed.player IS NOT NULL AND listed.player <> '';

-- A world is listed by a poll that answered ('ok') with a valid entry of that clean name. When
-- the same poll also holds an entry of that name that failed validation ('invalid'), the
-- world's state in that poll is unknown: none of its entries count (the invalid one might have
-- been the bigger world of that name).
CREATE OR REPLACE MACRO core.world_listings(since, until) AS TABLE
    SELECT p.polled_at, p.world_index, p.name, p.players, p.static, p.ssmp
    FROM raw.raw_world_polls AS p
    WHERE p.status = 'ok' AND p.name IS NOT NULL AND p.name <> '' AND p.players IS NOT NULL
      AND p.polled_at BETWEEN since AND until
      AND NOT EXISTS (
          SELECT 1 FROM raw.raw_world_polls AS i
          WHERE i.polled_at = p.polled_at AND i.status = 'invalid' AND i.name = p.name
      );

CREATE OR REPLACE MACRO core.world_sightings(since, until) AS TABLE
    SELECT DISTINCT polled_at AS seen_at, name AS entity
    FROM core.world_listings(since, until);
