"""GX Data Docs that open from ``data/`` with no network.

GX's pages load Bootstrap, jQuery, Font Awesome and Vega from CDNs, and a logo carrying the
data context id from S3; its index fills its two tables with JavaScript from those CDNs.
Offline, the pages would wait on hosts they cannot reach and the index would stay empty.
After each build, every page loses its remote scripts, styles and images, gets a small
stylesheet of its own, and the index's tables are written out as plain HTML from the rows
GX embedded for its script.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

_REMOTE_TAG = re.compile(
    r"""<script[^>]*\bsrc=["']https?://[^>]*>\s*</script>"""
    r"""|<link[^>]*\bhref=["']https?://[^>]*>"""
    r"""|<img[^>]*\bsrc=["']https?://[^>]*>""",
    re.IGNORECASE,
)
_TABLE_SCRIPT = re.compile(
    r"<script>\s*\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\((?P<body>.*?)</script>", re.DOTALL
)
_OFFLINE_MARK = "<!-- q2c: offline -->"
_STYLE = f"""{_OFFLINE_MARK}
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.5rem; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
th {{ background: #f3f3f3; text-align: left; }}
[id$="-toolbar"], .cooltip .top, .modal, .fade:not(.show):not(.tab-pane) {{ display: none; }}
.text-danger, .q2c-failed {{ color: #b00020; }} .text-success, .q2c-passed {{ color: #1b7f3b; }}
</style>
"""


def _bracketed(text: str, start: int) -> str:
    """The Python/JS literal ``[...]`` starting at ``text[start]``, quotes respected."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    raise ValueError("unbalanced brackets in a Data Docs table script")


def _literal(body: str, name: str) -> list[dict]:
    start = body.index(f"{name}: [") + len(name) + 2
    return ast.literal_eval(_bracketed(body, start))


def _static_table(columns: list[dict], rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(c.get('title', c['field']))}</th>" for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = []
        for column in columns:
            field = column["field"]
            if field == "validation_success":
                text = row.get("_validation_success_text", "")
                css = "q2c-passed" if text.lower() == "success" else "q2c-failed"
                value = f'<span class="{css}">{html.escape(text)}</span>'
            else:
                value = str(row.get(field, ""))
            if link and column is columns[0]:
                value = f'<a href="{html.escape(link)}">{value}</a>'
            cells.append(f"<td>{value}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def _index_tables(page: str) -> str:
    for match in list(_TABLE_SCRIPT.finditer(page)):
        table_id, body = match["id"], match["body"]
        table = _static_table(_literal(body, "columns"), _literal(body, "data"))
        page = page.replace(match.group(0), "")
        page = re.sub(
            rf'(<table\s+id="{re.escape(table_id)}"[^>]*>)\s*</table>',
            lambda m, table=table: f"{m.group(1)}{table}</table>",
            page,
        )
    return page


def make_offline(site_dir: Path) -> int:
    """Rewrite every page of the Data Docs site in ``site_dir``; return the pages rewritten."""
    rewritten = 0
    for path in site_dir.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        if _OFFLINE_MARK in page:
            continue
        page = _REMOTE_TAG.sub("", page)
        if path.parent == site_dir and path.name == "index.html":
            page = _index_tables(page)
        page = page.replace("</head>", f"{_STYLE}</head>", 1)
        path.write_text(page, encoding="utf-8")
        rewritten += 1
    return rewritten
