"""Builders for one self-contained HTML page; every text they are given is escaped."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; }
img { max-width: 100%; } .figures { display: flex; flex-wrap: wrap; gap: 1rem; }
.note { background: #fff6d6; border-left: 4px solid #e0b400; padding: 0.5rem 0.8rem; }
.meta { color: #666; }
.warning { background: #fde2e2; border-left: 4px solid #c62828; padding: 0.5rem 0.8rem;
           font-weight: bold; }
"""


def page(title: str, body: Sequence[str]) -> str:
    """A complete HTML document; ``body`` parts are already-built HTML."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def heading(text: str) -> str:
    return f"<h2>{escape(text)}</h2>"


def paragraph(text: str, css_class: str | None = None) -> str:
    attribute = f" class='{escape(css_class)}'" if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def preformatted(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def png_image(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG inlined as base64, so the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f"<img alt='{escape(alt)}' src='data:image/png;base64,{data}'>"


def figures(images: Sequence[str]) -> str:
    return "<div class='figures'>" + "".join(images) + "</div>"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A table; floats get 4 significant digits, right-aligned; None shows a dash."""
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, float):
        return f"<td class='num'>{value:.4g}</td>"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"<td class='num'>{value:,}</td>"
    return f"<td>{escape(str(value))}</td>"
