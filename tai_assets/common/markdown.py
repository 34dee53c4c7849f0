"""Small Markdown renderers for asset metadata shown in the Dagster UI."""

import base64

import polars as pl

_CELL_LIMIT = 60


def _cell(value: object) -> str:
    text = "∅" if value is None else str(value)
    if len(text) > _CELL_LIMIT:
        text = text[: _CELL_LIMIT - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def frame_to_markdown(frame: pl.DataFrame, limit: int = 10) -> str:
    """Return the first `limit` rows of `frame` as a Markdown table (for metadata previews)."""
    if frame.width == 0:
        return "_no columns_"
    head = frame.head(limit)
    lines = [
        "| " + " | ".join(head.columns) + " |",
        "| " + " | ".join("---" for _ in head.columns) + " |",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in head.iter_rows()]
    if frame.height > limit:
        lines.append(f"\n_{frame.height - limit} more rows_")
    if frame.height == 0:
        lines.append("\n_no rows_")
    return "\n".join(lines)


def png_image(png: bytes, alt: str) -> str:
    """Return Markdown that embeds a PNG inline, so the Dagster UI shows it in metadata."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
