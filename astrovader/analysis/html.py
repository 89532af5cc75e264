"""``index.html``: one self-contained page of the report (inline style, relative links only)."""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path

import numpy as np

from astrovader._io import write_text_atomic

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


def _table(stem: str, columns: dict) -> str:
    names = list(columns)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    kind = {n: ' class="text"' if np.asarray(columns[n]).dtype.kind in "USO" else "" for n in names}
    body = "".join(
        "<tr>" + "".join(f"<td{kind[n]}>{_cell(columns[n][i])}</td>" for n in names) + "</tr>"
        for i in range(len(columns[names[0]]) if names else 0)
    )
    links = " · ".join(
        f'<a href="{html.escape(stem)}.{s}">{s.upper()}</a>' for s in ("csv", "fits")
    )
    return f'<table><tr>{head}</tr>{body}</table><p class="links">{links}</p>'


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


def write_page(path: str | Path, title: str, sections: list[Section], summary: list[str]) -> Path:
    """Write the page atomically and return its path."""
    write_text_atomic(path, render(title, sections, summary))
    return Path(path)
