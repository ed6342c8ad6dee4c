"""Adapters: SELECTs that map another schema (e.g. a Fivetran Zendesk sync) onto the contract.

An adapter never writes to the user's warehouse. It opens the warehouse read-only, checks
that the source tables it reads are there, and sets `Warehouse.adapter_sql` (contract table
→ a SELECT the engine inlines as a CTE), `Warehouse.adapter_params` (the bind values those
SELECTs use: configuration reaches SQL only as bind parameters) and `Warehouse.adapter_name`.

`open_adapted(name, url, config_path)` is the one entry point the CLI and the dashboard need.
"""

from __future__ import annotations

from pathlib import Path

from metrics.warehouse import Warehouse, WarehouseError

ADAPTERS = ("zendesk",)


def open_adapted(name: str, url: str, config_path: str | Path) -> Warehouse:
    """Open `url` through adapter `name` configured by the YAML file `config_path`.

    A bad configuration raises ValueError (one line naming the key); a warehouse that lacks
    what the adapter reads raises WarehouseError (one line naming the table or column).
    """
    if name == "zendesk":
        from metrics.adapters import zendesk

        return zendesk.open_warehouse(url, zendesk.load_config(config_path))
    raise WarehouseError(f"--adapter: unknown adapter {name!r} (known: {', '.join(ADAPTERS)})")


def apply_adapter(name: str, wh: Warehouse, config_path: str | Path) -> Warehouse:
    """Set adapter `name` on a warehouse opened elsewhere (the dashboard's st.connection)."""
    if name == "zendesk":
        from metrics.adapters import zendesk

        return zendesk.open_warehouse(wh, zendesk.load_config(config_path))
    raise WarehouseError(f"APPEALS_ADAPTER: unknown adapter {name!r} (known: {', '.join(ADAPTERS)})")
