"""Live polling of the game server and the chrono worlds API (sources, records, derivations)."""
