"""The demo: history seeded through tai's real collectors and ingest path (`seed`)."""
