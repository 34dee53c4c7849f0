"""Dagster definitions, one package per domain: polling, players, analytics, maintenance, alerts."""
