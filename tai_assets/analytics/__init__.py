"""Pure analytics logic for tai: periods, name rules, scores, rendering, plots, delivery.

Nothing in this package touches Dagster; the assets in ``tai_assets.defs.analytics`` wire
it to the warehouse. Functions take polars DataFrames shaped like the core tables (naive UTC
timestamps) and return plain values or DataFrames, so they are tested with hand-made data whose
answer is known.
"""
