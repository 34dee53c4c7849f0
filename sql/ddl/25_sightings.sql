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

-- What is known of the server's state: every poll, and every count the original service
-- recorded (raw.legacy_server_online, imported: an answered poll with that count). Where a poll
-- and an imported row share an instant, the poll wins.
CREATE OR REPLACE MACRO core.server_observations(since, until) AS TABLE
    SELECT polled_at, status, online, max_players
    FROM raw.raw_server_polls
    WHERE polled_at BETWEEN since AND until
    UNION ALL
    SELECT l.queried_at AS polled_at, 'ok' AS status, l.online_count AS online,
        NULL::INTEGER AS max_players
    FROM raw.legacy_server_online AS l
    WHERE l.queried_at BETWEEN since AND until
      AND NOT EXISTS (SELECT 1 FROM raw.raw_server_polls AS p WHERE p.polled_at = l.queried_at);

-- What is known of each world's state: every listing, and every count the original service
-- recorded (raw.legacy_worlds_online, imported). worlds_online.sql keeps the bigger entry of a
-- name at one instant, as it does for two listings of one name in a poll.
CREATE OR REPLACE MACRO core.world_states(since, until) AS TABLE
    SELECT polled_at, world_index, name, players, static, ssmp
    FROM core.world_listings(since, until)
    UNION ALL
    SELECT saved_at AS polled_at, -1 AS world_index, name, players, static, ssmp
    FROM raw.legacy_worlds_online
    WHERE saved_at BETWEEN since AND until;

-- The online count's change points that a window (since, until) needs: those inside it and
-- the last one at or before `since`, the state the window opens with (changed_at is unique).
CREATE OR REPLACE MACRO core.server_online_window(since, until) AS TABLE
    SELECT changed_at, status, online
    FROM core.server_online
    WHERE changed_at > since AND changed_at < until
    UNION ALL
    SELECT * FROM (
        SELECT changed_at, status, online
        FROM core.server_online
        WHERE changed_at <= since
        ORDER BY changed_at DESC
        LIMIT 1
    );
