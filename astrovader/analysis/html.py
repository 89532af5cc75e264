"""``index.html``: one self-contained page of the report (inline style, relative links only).

A table of more than :data:`PAGE` rows shows its first rows on the page and is paged
in full beside its CSV/FITS files (``STEM-pages/NNN.html``, :data:`PAGE` rows each,
with links to the previous and next pages).
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import numpy as np

from astrovader._io import write_text_atomic

__all__ = ["PAGE", "STYLE", "Section", "render", "write_page"]

PAGE = 50
"""Rows of a table per page (the report shows the first page inline)."""

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .links { font-size: 0.85em; color: #555; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
td.text { text-align: left; }
th { background: #f3f3f3; } nav li { display: inline; margin-right: 1em; }
"""


@dataclasses.dataclass
class Section:
    """One heading of the page with its text, figures and tables.

    Attributes:
        title: The heading.
        text: Paragraphs (plain text, escaped on output).
        figures: (stem, caption) pairs; the stem is relative to the page and
            has ``.png`` and ``.pdf`` files.
        tables: (stem, columns) pairs; the stem has ``.csv`` and ``.fits``
            files and the columns are shown inline.
        links: (href, label) pairs, relative to the page.
    """

    title: str
    text: list[str] = dataclasses.field(default_factory=list)
    figures: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    tables: list[tuple[str, dict]] = dataclasses.field(default_factory=list)
    links: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The section's id in the page."""
        title = self.title.lower().replace("γ", "gamma")
        return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in title).strip("-")


def _cell(value) -> str:
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "–"
        return f"{value:.4g}"
    return html.escape(str(value))


def _rows(columns: dict) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def _html_table(columns: dict, rows: range) -> str:
    names = list(columns)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    kind = {n: ' class="text"' if np.asarray(columns[n]).dtype.kind in "USO" else "" for n in names}
    body = "".join(
        "<tr>" + "".join(f"<td{kind[n]}>{_cell(columns[n][i])}</td>" for n in names) + "</tr>"
        for i in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page_path(stem: str, page: int) -> str:
    return f"{stem}-pages/{page + 1:03d}.html"


def _table(stem: str, columns: dict) -> str:
    total = _rows(columns)
    links = " · ".join(
        f'<a href="{html.escape(stem)}.{s}">{s.upper()}</a>' for s in ("csv", "fits")
    )
    if total > PAGE:
        pages = " ".join(
            f'<a href="{html.escape(_page_path(stem, p))}">{p + 1}</a>'
            for p in range(math.ceil(total / PAGE))
        )
        links = f"rows 1–{PAGE} of {total:,}; all rows, {PAGE} a page: {pages} · {links}"
    return f'{_html_table(columns, range(min(total, PAGE)))}<p class="links">{links}</p>'


def _write_pages(folder: Path, stem: str, columns: dict) -> None:
    """The pages of a long table, each linking to the previous and next one."""
    total = _rows(columns)
    count = math.ceil(total / PAGE)
    name = Path(stem).name
    for page in range(count):
        rows = range(page * PAGE, min(total, (page + 1) * PAGE))
        nav = [f'<a href="../{html.escape(name)}.csv">CSV</a>']
        if page:
            nav.insert(0, f'<a href="{page:03d}.html">previous</a>')
        if page + 1 < count:
            nav.append(f'<a href="{page + 2:03d}.html">next</a>')
        text = (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name} '
            f"{page + 1}/{count}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(name)}: rows {rows.start + 1}–{rows.stop} of {total:,}</h1>"
            f'<p class="links">{" · ".join(nav)}</p>{_html_table(columns, rows)}</body></html>\n'
        )
        write_text_atomic(folder / _page_path(stem, page), text)


def _figure(stem: str, caption: str) -> str:
    src, text = html.escape(stem), html.escape(caption)
    return (
        f'<figure><a href="{src}.png"><img src="{src}.png" alt="{text}"></a>'
        f'<figcaption>{text} (<a href="{src}.pdf">PDF</a>)</figcaption></figure>'
    )


def render(title: str, sections: list[Section], summary: list[str]) -> str:
    """The page's HTML text."""
    nav = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a></li>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(line)}</p>" for line in summary),
        f"<nav><ul>{nav}</ul></nav>",
    ]
    for section in sections:
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>')
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.text)
        parts.extend(
            f'<p><a href="{html.escape(href)}">{html.escape(label)}</a></p>'
            for href, label in section.links
        )
        parts.extend(_table(stem, columns) for stem, columns in section.tables)
        parts.extend(_figure(stem, caption) for stem, caption in section.figures)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_page(
    path: str | Path, title: str, *, sections: list[Section], summary: list[str]
) -> Path:
    """Write the page (and the pages of its long tables) atomically and return its path."""
    path = Path(path)
    for section in sections:
        for stem, columns in section.tables:
            if _rows(columns) > PAGE:
                _write_pages(path.parent, stem, columns)
    write_text_atomic(path, render(title, sections, summary))
    return path
