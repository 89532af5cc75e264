"""More objects like this one: nearest neighbours in the model's clustering space.

A query is an object of the run (by id, or by RA/Dec within a matching radius) or
an image from anywhere, read exactly as the training images were (the model's
:meth:`~astrovader.model.vade.AstroVaDEr.read_options`) and embedded with the
model's own :meth:`~astrovader.model.api.InferenceMixin.embed`. The search set is
the run's objects (``clusters.csv``) or another data set (``data``), embedded
once with the model into ``RUN/index/data-…/objects.fits`` and indexed there
(:mod:`astrovader.training.rundir.index`); distances are Euclidean in μ̃, the space
the mixture prior clusters.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from astrovader.data.images.options import ReadOptions
from astrovader.errors import AstrovaderError
from astrovader.training.rundir.directory import RunDirectory
from astrovader.training.rundir.index import (
    ModelIndexes,
    RunIndex,
    build_index,
    current,
    data_name,
    index_dir,
    open_index,
)

__all__ = [
    "RADIUS_ARCSEC",
    "TABLE",
    "Query",
    "Search",
    "by_id",
    "by_image",
    "by_sky",
    "neighbours",
    "open_search",
]

log = logging.getLogger(__name__)

RADIUS_ARCSEC = 1.0
TABLE = "objects.fits"


@dataclasses.dataclass
class Search:
    """A run, its model and the index of the objects searched.

    Attributes:
        run: The run directory.
        model: The trained model.
        index: The index of the searched objects.
        data: The data set searched (None: the run's own objects).
    """

    run: RunDirectory
    model: object
    index: RunIndex
    data: str | None = None

    @property
    def reading(self) -> ReadOptions:
        """How the searched objects' images are read (the run's, else the model's reading)."""
        if self.data is None:
            return ReadOptions.from_config(self.run.config)
        return self.model.read_options()

    def iter_images(self, batch_size: int = 180):
        """``(ids, images)`` batches of every object of the search set, in its order."""
        from astrovader.data.pipelines.stream import memory_stream, open_stream

        path = self.data if self.data is not None else self.run.config.data.path
        if path:
            stream = open_stream(path, self.reading)
        else:
            stream = memory_stream(self.run.images(progress=False))
        yield from stream.batches(batch_size)

    def table_columns(self) -> dict:
        """The catalogue columns of the searched objects' table (index order)."""
        from astrovader.data.tables.clusters import read_clusters

        return read_clusters(self.index.table)["columns"]

    def images(self, ids) -> np.ndarray:
        """The images (n, S, S, B) of objects of the search set."""
        from astrovader.data.pipelines.stream import read_ids

        path = self.data if self.data is not None else self.run.config.data.path
        if path:
            return read_ids(path, self.reading, ids)[1]
        images = self.run.images(progress=False)  # the built-in synthetic set
        rows = {name: i for i, name in enumerate(images.ids)}
        return images.images[[rows[str(i)] for i in ids]]


@dataclasses.dataclass
class Query:
    """What is searched for.

    Attributes:
        label: Its description (``id X``, ``image FILE``, ``RA …, Dec …``).
        z: (1, J) its latent vector.
        image: (S, S, B) its image, or None (then read from the search set).
        row: Its row in the search set, left out of the answer; None for an image.
        slug: A file-name-safe name of the query.
    """

    label: str
    z: np.ndarray
    image: np.ndarray | None
    row: int | None
    slug: str


def open_search(run, data=None, *, model=None, batch_size: int = 180, progress: bool = True):
    """The :class:`Search` of a finished run, its index built or rebuilt when stale.

    Args:
        run: The run directory, or a model file without one
            (:class:`~astrovader.training.rundir.index.ModelIndexes`; needs ``data``).
        data: Another data set to search (a folder, catalogue, ``.npy`` or shards),
            embedded with the run's model the first time (and whenever it or the
            model changes); None searches the run's own objects.
        model: The run's model, if already loaded.
        batch_size: Images per batch when embedding ``data``.
        progress: Show a progress bar while embedding.
    """
    if isinstance(run, ModelIndexes):
        if data is None:
            raise AstrovaderError(f"{run.model_path}: a model file needs DATA to search")
        from astrovader.model.loading import open_model

        model = model if model is not None else open_model(run.model_path)
    else:
        run = RunDirectory(run).check_finished()
        model = model if model is not None else run.model()
    if data is None:
        return Search(run, model, open_index(run))
    if not Path(data).exists():
        raise AstrovaderError(f"{data}: no such data")
    name = data_name(data)
    if current(run, name, data) is not None:
        return Search(run, model, open_index(run, name, data=data), str(data))
    from astrovader.inference.embed import embed_to_table
    from astrovader.model.likelihood import SAMPLES

    table = index_dir(run, name) / TABLE
    log.info("embedding %s with the run's model (once; kept in %s)", data, table.parent)
    embed_to_table(
        model,
        data,
        out=table,
        batch_size=batch_size,
        progress=progress,
        model_name=str(run.model_path),
        likelihood_samples=SAMPLES,
    )
    return Search(run, model, build_index(run, table, name=name, data=data), str(data))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80] or "query"


def by_id(search: Search, name: str) -> Query:
    """The object ``name`` of the search set.

    Raises:
        AstrovaderError: no object has this id.
    """
    row = search.index.objects.position(name)
    return Query(f"id {name}", search.index.index.z[[row]], None, row, _slug(f"id-{name}"))


def by_image(search: Search, path) -> Query:
    """An image file, read as the model's training images were and embedded by the model.

    Raises:
        AstrovaderError: not exactly one image in the file, another band count
            than the model's, or an unreadable file (the message names it).
    """
    from astrovader.data.images.readers import load_images

    path = Path(path)
    found = load_images(path, options=search.model.read_options(), progress=False)
    if len(found) != 1:
        raise AstrovaderError(f"{path}: holds {len(found)} images; give a file with one")
    _, z = search.model.embed(found.images)
    return Query(
        f"image {path.name}",
        np.asarray(z, np.float32),
        found.images[0],
        None,
        _slug(f"image-{path.stem}"),
    )


def by_sky(search: Search, ra: float, *, dec: float, radius: float = RADIUS_ARCSEC) -> Query:
    """The object nearest to (RA, Dec) in degrees, if it lies within ``radius`` arcseconds.

    Raises:
        AstrovaderError: the objects have no RA/Dec, or none lies within ``radius``.
    """
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    objects = search.index.objects
    if not -90.0 <= dec <= 90.0:
        raise AstrovaderError(f"--dec {dec}: a declination lies in [-90, 90] degrees")
    known = np.flatnonzero(np.isfinite(objects.ra) & np.isfinite(objects.dec))
    if not len(known):
        raise AstrovaderError(
            f"{search.index.table}: the objects have no RA/Dec (give a catalogue with ra and "
            "dec columns to fit or embed)"
        )
    target = SkyCoord(ra * u.deg, dec * u.deg)
    separation = target.separation(SkyCoord(objects.ra[known] * u.deg, objects.dec[known] * u.deg))
    nearest = int(np.argmin(separation))
    arcsec = float(separation[nearest].to_value(u.arcsec))
    row = int(known[nearest])
    if arcsec > radius:
        raise AstrovaderError(
            f"RA {ra:g}, Dec {dec:g}: no object within {radius:g} arcsec (the nearest, "
            f"{objects.ids[row]}, is {arcsec:.3g} arcsec away; --radius widens the match)"
        )
    name = objects.ids[row]
    return Query(
        f"RA {ra:g}, Dec {dec:g} (id {name}, {arcsec:.2g} arcsec)",
        search.index.index.z[[row]],
        None,
        row,
        _slug(f"sky-{ra:.5f}_{dec:+.5f}"),
    )


def neighbours(search: Search, query: Query, n: int = 20) -> dict[str, np.ndarray]:
    """The ``n`` nearest objects, the query object itself left out.

    Returns:
        Columns ``rank, id, ra, dec, distance, cluster, gamma_max, anomaly_score``.
    """
    exclude = None if query.row is None else [query.row]
    distances, rows = search.index.kneighbors(query.z, n, exclude=exclude)
    rows, objects = rows[0], search.index.objects
    return {
        "rank": np.arange(1, len(rows) + 1),
        "id": objects.ids[rows],
        "ra": objects.ra[rows],
        "dec": objects.dec[rows],
        "distance": distances[0],
        "cluster": objects.cluster[rows],
        "gamma_max": objects.gamma_max[rows],
        "anomaly_score": objects.score[rows],
    }
