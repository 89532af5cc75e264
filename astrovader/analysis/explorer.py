"""``astrovader explore``: one self-contained page to browse every object of a run.

The page is Bokeh standalone HTML with BokehJS inline (no network, no server): a 2-D
map (t-SNE as in the report, or UMAP) of at most ``max_points`` objects (a seeded
random subsample above, stated on the page), coloured by cluster, anomaly score or a
catalogue column; pan, zoom, box and lasso selection; at high zoom the galaxies'
thumbnails drawn in place. Hovering shows an object's thumbnail, id, RA/Dec,
cluster, max γ and anomaly score; clicking shows it, its reconstruction and its
nearest neighbours (precomputed from the run's index); a cluster filter, the least
typical objects (the lowest anomaly scores, method §7b: artefacts first) as a gallery
above the map and a list beside it, and the selection exported as a CSV of ids. Thumbnails and
reconstructions are packed in a few JPEG sprite sheets (:mod:`sprites`) embedded in
the page. Small ``CustomJS`` callbacks do the rest.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import logging
from pathlib import Path

import numpy as np
from PIL import Image

from astrovader._io import directory_lock, remove_stale, write_text_atomic
from astrovader._progress import progress_bar
from astrovader.analysis.sprites import SpriteSheets, thumbnails
from astrovader.errors import AstrovaderError

__all__ = [
    "MAX_THUMBS",
    "PALETTE",
    "ExplorerOptions",
    "Mapped",
    "check_explorer_options",
    "least_typical",
    "make_explorer",
    "map_points",
]

log = logging.getLogger(__name__)

MAPS = ("tsne", "umap")
MAX_THUMBS = 120
PALETTE = (
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf "
    "#aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94 #f7b6d2 #c7c7c7 #dbdb8d #9edae5"
).split()


@dataclasses.dataclass(frozen=True)
class ExplorerOptions:
    """Settings of the explorer page.

    Attributes:
        map_method: ``"tsne"`` (scikit-learn, the report's map) or ``"umap"``
            (``umap-learn``).
        max_points: At most this many objects on the map (a seeded random subsample).
        neighbours: Nearest neighbours shown for a clicked object.
        listed: Least typical objects (lowest anomaly score) listed and shown in the gallery.
        tile: Side of a thumbnail in pixels (smaller images keep their size).
        seed: Seed of the subsample and the map.
        batch_size: Images per batch when reading and decoding.
        progress: Show progress bars.
    """

    map_method: str = "tsne"
    max_points: int = 100_000
    neighbours: int = 12
    listed: int = 50
    tile: int = 32
    seed: int = 0
    batch_size: int = 180
    progress: bool = True


def check_explorer_options(options: ExplorerOptions) -> None:
    """Reject impossible options before any work."""
    if options.map_method not in MAPS:
        raise AstrovaderError(f"the map must be one of {MAPS}, got {options.map_method!r}")
    if options.max_points < 5 or options.neighbours < 1 or options.tile < 8:
        raise AstrovaderError("max_points must be ≥ 5, neighbours ≥ 1 and tile ≥ 8")
    if options.map_method == "umap":
        try:
            import umap  # noqa: F401
        except ImportError:
            raise AstrovaderError("the UMAP map needs umap-learn: pip install umap-learn") from None


def map_points(z: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """A 2-D map (n, 2) of embeddings: t-SNE (the report's) or UMAP."""
    if len(z) < 5:
        raise AstrovaderError(f"a map needs at least 5 objects, got {len(z)}")
    if method == "umap":
        import umap

        return umap.UMAP(random_state=seed).fit_transform(z)
    from astrovader.analysis.clustering import tsne_points

    return tsne_points(z, seed)


def _hex(values: np.ndarray) -> np.ndarray:
    """Numbers as viridis colours between their 1st and 99th percentiles (grey: unknown)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    values = np.asarray(values, float)
    known = np.isfinite(values)
    out = np.full(len(values), "#bbbbbb", dtype=object)
    if known.any():
        low, high = np.percentile(values[known], [1, 99])
        scaled = np.clip((values[known] - low) / ((high - low) or 1.0), 0, 1)
        table = [to_hex(c) for c in colormaps["viridis"](np.linspace(0, 1, 256))]
        out[known] = [table[int(v * 255)] for v in scaled]
    return out.astype(str)


@dataclasses.dataclass
class Mapped:
    """The objects on the map, in map order (index rows ``rows``)."""

    rows: np.ndarray
    points: np.ndarray
    neighbours: np.ndarray
    distances: np.ndarray
    columns: dict


def _neighbours(search, rows: np.ndarray, k: int):
    """Each mapped object's k nearest mapped objects (the run's index when all are mapped)."""
    from astrovader.data.latent_index import LatentIndex

    z = search.index.index.z[rows]
    k = min(k, len(rows) - 1)
    if len(rows) == len(search.index.index):
        return search.index.kneighbors(z, k, exclude=rows)
    return LatentIndex(z).kneighbors(z, k, exclude=np.arange(len(rows)))


def _sprites(search, rows, options):
    """The thumbnails and reconstructions of the mapped objects, as sprite sheets."""
    model, z = search.model, search.index.index.z
    ids = search.index.objects.ids
    position = {ids[r]: i for i, r in enumerate(rows)}
    tile = min(options.tile, model.image_size)
    images = SpriteSheets(len(rows), tile, bands=model.bands)
    recons = SpriteSheets(len(rows), tile, bands=model.bands)
    slots = np.zeros((len(rows), tile, tile, model.bands), np.uint8)
    bar = progress_bar(total=len(rows), desc="thumbnails", unit="img", disable=not options.progress)
    for batch_ids, batch in search.iter_images(options.batch_size):
        mine = [
            (position[name], image)
            for name, image in zip(batch_ids, batch, strict=True)
            if name in position
        ]
        if mine:
            at, pixels = zip(*mine, strict=True)
            slots[list(at)] = thumbnails(np.stack(pixels), tile)
            bar.update(len(at))
    bar.close()
    images.add(slots)
    for start in progress_bar(
        range(0, len(rows), options.batch_size),
        desc="reconstructions",
        unit="batch",
        disable=not options.progress,
        leave=False,
    ):
        part = rows[start : start + options.batch_size]
        recons.add(thumbnails(model.decode(z[part]), tile))
    return images, recons


def _map(search, options: ExplorerOptions) -> Mapped:
    count = len(search.index.index)
    rows = np.arange(count)
    if count > options.max_points:
        rng = np.random.default_rng(options.seed)
        rows = np.sort(rng.choice(count, options.max_points, replace=False))
    points = map_points(search.index.index.z[rows], options.map_method, options.seed)
    # Positions on the map: the run's rows when every object is mapped (rows = 0…N−1).
    distances, neighbours = _neighbours(search, rows, options.neighbours)
    objects = search.index.objects
    columns = {}
    for name, values in search.table_columns().items():
        values = np.asarray(values)
        if values.dtype.kind in "fiu" and name not in ("ra", "dec"):
            columns[name] = values[rows].astype(float)
    return Mapped(
        rows,
        points,
        neighbours,
        distances,
        {
            "id": objects.ids[rows],
            "ra": objects.ra[rows],
            "dec": objects.dec[rows],
            "cluster": objects.cluster[rows],
            "gamma_max": objects.gamma_max[rows],
            "score": objects.score[rows],
            **{f"col:{k}": v for k, v in columns.items()},
        },
    )


def _source_data(mapped: Mapped, sheets: SpriteSheets) -> tuple[dict, list[str]]:
    """The map's columns (numbers as arrays) and the names of the colourings."""
    c = mapped.columns
    n = len(mapped.rows)
    sheet, u, v = sheets.where(np.arange(n))
    data = {
        "x": mapped.points[:, 0].astype(float),
        "y": mapped.points[:, 1].astype(float),
        "id": c["id"].astype(str),
        "ra": np.nan_to_num(c["ra"], nan=-999.0),
        "dec": np.nan_to_num(c["dec"], nan=-999.0),
        "cluster": c["cluster"].astype(np.int32),
        "gmax": c["gamma_max"].astype(float),
        "score": np.nan_to_num(c["score"], nan=-1e300),
        "sheet": sheet.astype(np.int32),
        "u": u.astype(np.int32),
        "v": v.astype(np.int32),
        "c_cluster": np.array([PALETTE[k % len(PALETTE)] for k in c["cluster"]]),
    }
    colourings = ["cluster"]
    if np.isfinite(c["score"]).any():
        data["c_anomaly score"] = _hex(c["score"])
        colourings.append("anomaly score")
    for name, values in c.items():
        if name.startswith("col:"):
            data[f"c_{name[4:]}"] = _hex(values)
            colourings.append(name[4:])
    for j in range(mapped.neighbours.shape[1]):
        data[f"nb{j}"] = mapped.neighbours[:, j].astype(np.int32)
        data[f"nd{j}"] = mapped.distances[:, j].astype(float)
    data["color"] = data["c_cluster"].copy()
    return data, colourings


HELPERS = """
const A = window.astrovader ||
  (window.astrovader = {cache: new Map(), sheets: new Map(), redraws: {}});
const T = tile, G = grid, d = source.data;
function sheetImage(kind, s) {
  const key = kind + s;
  let img = A.sheets.get(key);
  if (!img) {
    img = new Image();
    img.onload = () => { A.cache.clear(); Object.values(A.redraws).forEach(f => f()); };
    img.src = sprites.data[kind][s];
    A.sheets.set(key, img);
  }
  return img;
}
function thumb(kind, i) {
  const key = kind + ':' + i;
  if (A.cache.has(key)) return A.cache.get(key);
  const img = sheetImage(kind, d.sheet[i]);
  if (!img.complete || img.naturalWidth === 0) return "";
  const c = document.createElement('canvas');
  c.width = c.height = T;
  c.getContext('2d').drawImage(img, d.u[i] * T, d.v[i] * T, T, T, 0, 0, T, T);
  const url = c.toDataURL();
  A.cache.set(key, url);
  return url;
}
function img(url, size, title) {
  return '<img class="thumb" width="' + size + '" height="' + size + '" title="' + title +
         '" src="' + (url || 'data:,') + '">';
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;',
  '>': '&gt;', '"': '&quot;'}[c])); }
function fmt(v, n) { return (v === -999 || v === -1e300) ? '–' : Number(v).toFixed(n); }
function facts(i) {
  return '<b class="oid">' + esc(d.id[i]) + '</b><br>RA ' + fmt(d.ra[i], 5) + ', Dec ' +
    fmt(d.dec[i], 5) + '<br>cluster ' + d.cluster[i] + ', max γ ' + fmt(d.gmax[i], 3) +
    '<br>anomaly score ' + fmt(d.score[i], 1);
}
"""

HOVER = """
const found = cb_data.index.indices.filter(i => filter.booleans[i]);
if (!found.length) return;
const i = found[0];
A.redraws.hover = () => {
  document.getElementById('hover').innerHTML =
    '<div class="card" data-index="' + i + '">' + img(thumb('image', i), 96, d.id[i]) +
    '<div>' + facts(i) + '</div></div>';
};
A.redraws.hover();
"""

DETAIL = """
const chosen = source.selected.indices;
const status = document.getElementById('status');
status.textContent = chosen.length ? chosen.length + ' selected' : '';
if (chosen.length !== 1) return;
const i = chosen[0];
function render() {
  let html = '<div class="card">' + img(thumb('image', i), 128, 'object') +
    img(thumb('recon', i), 128, 'reconstruction') + '<div>' + facts(i) +
    '<br><small>left: image, right: reconstruction</small></div></div><h3>Nearest ' +
    'neighbours in μ̃</h3><ol class="neighbours">';
  for (let j = 0; j < K; j++) {
    const n = d['nb' + j][i];
    html += '<li data-id="' + esc(d.id[n]) + '">' + img(thumb('image', n), 64, d.id[n]) +
      '<span>' + esc(d.id[n]) + '<br>d = ' + fmt(d['nd' + j][i], 3) + '</span></li>';
  }
  document.getElementById('detail').innerHTML = html + '</ol>';
}
A.redraws.detail = render;
render();
"""

RECOLOUR = """
d.color = d['c_' + this.value].slice();
source.change.emit();
"""

FILTER = """
const on = new Set(this.active.map(k => clusters[k]));
filter.booleans = Array.from(d.cluster, c => on.has(c));
source.change.emit();
"""

EXPORT = """
const rows = source.selected.indices.filter(i => filter.booleans[i]);
const text = 'id\\n' + rows.map(i => d.id[i]).join('\\n') + '\\n';
const link = document.createElement('a');
link.href = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
link.download = 'selection.csv';
document.body.appendChild(link);
link.click();
link.remove();
document.getElementById('status').textContent = rows.length + ' ids exported to selection.csv';
"""

THUMBS = """
const x0 = xr.start, x1 = xr.end, y0 = yr.start, y1 = yr.end;
const shown = [];
for (let i = 0; i < d.x.length && shown.length <= MAX; i++) {
  if (filter.booleans[i] && d.x[i] >= x0 && d.x[i] <= x1 && d.y[i] >= y0 && d.y[i] <= y1)
    shown.push(i);
}
const w = (x1 - x0) / 20, h = (y1 - y0) / 20;
if (shown.length > MAX) shown.length = 0;
A.redraws.thumbs = () => {
  thumbs.data = {url: shown.map(i => thumb('image', i)), x: shown.map(i => d.x[i]),
                 y: shown.map(i => d.y[i]), w: shown.map(() => w), h: shown.map(() => h)};
};
A.redraws.thumbs();
"""

PICK = """
if (this.selected.indices.length) {
  source.selected.indices = [this.data.row[this.selected.indices[0]]];
}
"""

STYLE = """
body { font-family: sans-serif; margin: 1em; color: #222; }
#layout { display: flex; gap: 1.5em; align-items: flex-start; }
#side { width: 420px; }
.card { display: flex; gap: 0.6em; align-items: flex-start; font-size: 0.85em; }
img.thumb { image-rendering: pixelated; border: 1px solid #ccc; background: #000; }
ol.neighbours { list-style: none; padding: 0; display: grid;
                grid-template-columns: repeat(4, 1fr); gap: 4px; font-size: 0.7em; }
ol.neighbours span { display: block; overflow-wrap: anywhere; }
#status { font-size: 0.85em; color: #555; min-height: 1.2em; }
h3 { font-size: 0.95em; margin: 0.8em 0 0.3em; }
.gallery { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 1em; }
.gallery figure { margin: 0; width: 70px; font-size: 0.65em; overflow-wrap: anywhere; }
"""


def _document(mapped: Mapped, images, recons, options, title, notes):
    from bokeh.layouts import column
    from bokeh.models import (
        BooleanFilter,
        Button,
        CDSView,
        CheckboxGroup,
        ColumnDataSource,
        CustomJS,
        DataTable,
        HoverTool,
        Select,
        TableColumn,
    )
    from bokeh.plotting import figure

    data, colourings = _source_data(mapped, images)
    source = ColumnDataSource(data, name="objects")
    sprites = ColumnDataSource(
        {"image": images.data_urls(), "recon": recons.data_urls()}, name="sprites"
    )
    thumbs = ColumnDataSource({"url": [], "x": [], "y": [], "w": [], "h": []}, name="thumbs")
    clusters = sorted({int(k) for k in data["cluster"]})
    filter_ = BooleanFilter(booleans=[True] * len(data["x"]), name="cluster_filter")
    plot = figure(
        width=820,
        height=640,
        tools="pan,wheel_zoom,box_zoom,box_select,lasso_select,tap,reset",
        active_scroll="wheel_zoom",
        active_drag="pan",
        title=title,
        name="map",
    )
    plot.xaxis.visible = plot.yaxis.visible = False
    plot.grid.visible = False
    dots = plot.scatter(
        "x",
        "y",
        source=source,
        view=CDSView(filter=filter_),
        color="color",
        size=5,
        alpha=0.8,
        nonselection_alpha=0.25,
        selection_color="black",
        name="dots",
    )
    plot.image_url(url="url", x="x", y="y", w="w", h="h", anchor="center", source=thumbs)
    args = {
        "source": source,
        "sprites": sprites,
        "filter": filter_,
        "tile": images.tile,
        "grid": images.grid,
    }
    k = mapped.neighbours.shape[1]
    plot.add_tools(
        HoverTool(
            renderers=[dots], tooltips=None, callback=CustomJS(args=args, code=HELPERS + HOVER)
        )
    )
    source.selected.js_on_change("indices", CustomJS(args={**args, "K": k}, code=HELPERS + DETAIL))
    redraw = CustomJS(
        args={**args, "thumbs": thumbs, "xr": plot.x_range, "yr": plot.y_range, "MAX": MAX_THUMBS},
        code=HELPERS + THUMBS,
    )
    for axis in (plot.x_range, plot.y_range):
        axis.js_on_change("start", redraw)
        axis.js_on_change("end", redraw)
    colour = Select(title="Colour by", value="cluster", options=colourings, name="colour")
    colour.js_on_change("value", CustomJS(args=args, code=HELPERS + RECOLOUR))
    counts = np.bincount(data["cluster"], minlength=max(clusters) + 1)
    boxes = CheckboxGroup(
        labels=[f"cluster {c} ({counts[c]})" for c in clusters],
        active=list(range(len(clusters))),
        name="clusters",
        inline=True,
    )
    boxes.js_on_change(
        "active", CustomJS(args={**args, "clusters": clusters}, code=HELPERS + FILTER)
    )
    boxes.js_on_change("active", redraw)
    export = Button(label="Export selection as CSV of ids", name="export")
    export.js_on_event("button_click", CustomJS(args=args, code=HELPERS + EXPORT))
    order = least_typical(data["score"], options.listed)
    least = ColumnDataSource(
        {
            "rank": np.arange(1, len(order) + 1),
            "id": data["id"][order],
            "cluster": data["cluster"][order],
            "score": np.round(data["score"][order], 2),
            "row": order,
        },
        name="least_likely",
    )
    least.selected.js_on_change("indices", CustomJS(args={"source": source}, code=PICK))
    table = DataTable(
        source=least,
        width=420,
        height=260,
        reorderable=False,
        index_position=None,
        name="least_likely_table",
        columns=[
            TableColumn(field="rank", title="#", width=30),
            TableColumn(field="id", title="id"),
            TableColumn(field="cluster", title="cluster", width=50),
            TableColumn(field="score", title="anomaly (bits)", width=90),
        ],
    )
    controls = column(colour, boxes, export, table, name="controls")
    return plot, controls, notes, _gallery(order, data, images)


def least_typical(score: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` lowest anomaly scores, lowest first (unknown scores, −1e300, last)."""
    return np.argsort(np.where(score == -1e300, np.inf, score), kind="stable")[:n]


def _gallery(order, data, images) -> str:
    """The least typical objects as a row of thumbnails (PNG ``data:`` URLs), lowest first."""
    shown = [i for i in order if data["score"][i] != -1e300]
    if not shown:
        return ""
    cards = []
    for i in shown:
        tile = images.tile_of(int(i))
        picture = Image.fromarray(tile[..., 0] if tile.shape[-1] == 1 else tile)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        name = html.escape(str(data["id"][i]))
        cards.append(
            f'<figure data-index="{int(i)}" data-id="{name}"><img class="thumb" width="64" '
            f'height="64" alt="{name}" src="{url}"><figcaption>{name}<br>'
            f"{data['score'][i]:.0f} bits</figcaption></figure>"
        )
    return (
        '<div id="least-typical"><h3>Least typical objects (lowest anomaly score first: '
        "artefacts and rare objects)</h3>"
        f'<div class="gallery">{"".join(cards)}</div></div>'
    )


def _page(plot, controls, title: str, notes: list[str], gallery: str = "") -> str:
    from bokeh.embed import components
    from bokeh.resources import INLINE

    script, (map_div, controls_div) = components((plot, controls))
    text = "".join(f"<p>{html.escape(line)}</p>" for line in notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style>
{INLINE.render()}
{script}
</head><body>
<h1>{html.escape(title)}</h1>
{text}
{gallery}
<div id="layout"><div id="map">{map_div}</div>
<div id="side"><div id="hover"><p>Hover over a point to see the object.</p></div>
<div id="detail"><p>Click a point: the object, its reconstruction and its nearest
neighbours. Box or lasso-select points, then export their ids.</p></div>
<div id="status"></div>{controls_div}</div></div>
</body></html>
"""


def make_explorer(
    run, out, *, data=None, options: ExplorerOptions = ExplorerOptions(), search=None
) -> Path:
    """Write ``OUT/index.html``: the explorer of a run (or a model and ``data``).

    Args:
        run: The run directory, or a model file (``.keras``, ``.h5``) with ``data``.
        out: The output folder.
        data: Images to explore instead of the run's own.
        options: Everything else.
        search: An open :class:`~astrovader.inference.similar.Search` (else opened).

    Returns:
        The page.
    """
    from astrovader.inference.similar import open_search

    check_explorer_options(options)
    if search is None:
        search = open_search(run, data, batch_size=options.batch_size, progress=options.progress)
    count = len(search.index.index)
    log.info("mapping %d objects", min(count, options.max_points))
    mapped = _map(search, options)
    images, recons = _sprites(search, mapped.rows, options)
    shown = len(mapped.rows)
    method = {"tsne": "t-SNE", "umap": "UMAP"}[options.map_method]
    name = Path(getattr(run, "model_path", run)).name
    title = f"AstroVaDEr explorer: {name}"
    notes = [
        f"{method} map of {shown} of {count} objects"
        + (f" (a random subsample; seed {options.seed})." if shown < count else "."),
        "Neighbours: Euclidean distance in μ̃, the space the mixture clusters, "
        + ("from the run's index." if shown == count else f"among the {shown} mapped objects."),
        "Scroll to zoom; at high zoom the galaxies are drawn in place.",
    ]
    caption = f"{method} of μ̃, {shown} objects"
    plot, controls, notes, gallery = _document(mapped, images, recons, options, caption, notes)
    page = Path(out) / "index.html"
    with directory_lock(out):
        remove_stale(out, recursive=False)
        write_text_atomic(page, _page(plot, controls, title, notes, gallery))
    return page
