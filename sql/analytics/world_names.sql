-- Every distinct clean world name tai knows of: from world sessions and the worlds' history
-- (both include what was imported from the original service).
SELECT name FROM core.world_sessions
UNION
SELECT name FROM core.worlds_online
ORDER BY name
