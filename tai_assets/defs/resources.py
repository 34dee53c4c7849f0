"""The resources of the code location, built from `Settings` (secrets only through `EnvVar`)."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import Field

from tai_assets.settings import Settings
from tai_assets.warehouse.connection import DEFAULT_LOCK_WAIT_SECONDS, connect, in_transaction
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file, for SQL that must not load whole tables into memory."""

    database: str = Field(description="Path of the DuckDB warehouse file (TAI_WAREHOUSE_PATH).")
    lock_wait_seconds: float = Field(
        default=DEFAULT_LOCK_WAIT_SECONDS,
        description="TAI_WAREHOUSE_LOCK_WAIT_SECONDS: wait for another process's file lock.",
    )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection with every table created; it is closed even after an error."""
        with connect(self.database, lock_wait_seconds=self.lock_wait_seconds) as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a connection inside one transaction: committed when the block ends, rolled
        back on any error (and by DuckDB itself when the process dies in the middle)."""
        with self.connect() as conn, in_transaction(conn):
            yield conn


def secret(name: str, is_set: bool) -> dg.EnvVar | None:
    """Return an EnvVar for a secret the settings found set, or None (its feature is off).

    The value itself is read by Dagster when the resource is built, so it never appears in the
    definitions, run config or the UI."""
    return dg.EnvVar(name) if is_set else None


def fixed_resources(
    resources: Mapping[str, dg.ConfigurableResource | dg.ConfigurableIOManager],
) -> dict[str, dg.ResourceDefinition]:
    """Return the resources initialized now (EnvVars resolved) and fixed for every run.

    A `ConfigurableResource` handed to `Definitions` can be reconfigured by any run's config
    (`resources: {telegram: {config: {api_base_url: ..., bot_token: {env: CHRONO_TOKEN}}}}`),
    which would send a secret to any host. A hardcoded resource has no config to override:
    the hosts that receive secrets, and the variables they are read from, are the ones the
    settings named when the code location loaded.
    """
    # One initialization for all (Dagster's own per-resource one builds a throwaway instance
    # each time: a second of every code location load). No tai resource has a teardown.
    with dg.build_resources(dict(resources)) as initialized:
        values = {key: getattr(initialized, key) for key in resources}
    fixed: dict[str, dg.ResourceDefinition] = {}
    for key, value in values.items():
        if isinstance(value, dg.IOManager):
            fixed[key] = dg.IOManagerDefinition.hardcoded_io_manager(value)
        else:
            fixed[key] = dg.ResourceDefinition.hardcoded_resource(value)
    return fixed


def warehouse_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Return the IO manager and the warehouse resource, both on the settings' warehouse file."""
    database = str(settings.warehouse_path)
    wait = settings.warehouse_lock_wait_seconds
    return {
        "io_manager": TaiWarehouseIOManager(database=database, lock_wait_seconds=wait),
        "warehouse": WarehouseResource(database=database, lock_wait_seconds=wait),
    }
