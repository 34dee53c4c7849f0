"""Warehouse test helpers: the resources an analytics asset needs on a warehouse file, and a
read-only query of it."""

from tai_assets.defs.resources import WarehouseResource
from tai_assets.warehouse import connection
from tai_assets.warehouse.io_manager import TaiWarehouseIOManager


def warehouse_resources(database: str) -> dict:
    """Return the warehouse resource and IO manager on a warehouse file."""
    return {
        "warehouse": WarehouseResource(database=database),
        "io_manager": TaiWarehouseIOManager(database=database),
    }


def query(database: str, sql: str) -> list[tuple]:
    """Return every row of a query on the warehouse file, opened read-only."""
    with connection.connect(database, read_only=True) as conn:
        return conn.execute(sql).fetchall()
