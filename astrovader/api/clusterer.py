"""``astrovader.Clusterer``: AstroVaDEr as a scikit-learn estimator, for notebooks.

It shares every code path with the command line: ``fit`` writes a run directory with
:func:`~astrovader.training.run.fit_run` (the one training loop; ``astrovader report
RUN`` and ``astrovader fit --resume RUN`` accept it), and the other methods read
images the way the model's training images were read
(:func:`~astrovader.data.images.readers.load_images` with the model's
:meth:`~astrovader.model.vade.AstroVaDEr.read_options`).

Parameters map to the configuration: ``n_clusters`` is ``model.n_clusters``,
``image_size`` ``data.image_size``, ``seed`` ``training.seed``, and any other key is
given as ``section__key`` (``Clusterer(schedule__gamma_epochs=10)``), the way
scikit-learn names nested parameters. ``get_params`` lists every configuration key
(None: the preset's value), ``set_params`` refuses an unknown key at once, and
:func:`sklearn.base.clone` sees them all.

Without ``out``, ``fit`` writes its run directory in the system's temporary folder
and removes it when the estimator is garbage-collected (``save`` keeps a copy).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from astrovader.config import Config, load_config
from astrovader.config.core import merge
from astrovader.errors import AstrovaderError

__all__ = ["Clusterer"]

PRESETS = ("quickstart", "default", "paper")
OWN = ("n_clusters", "image_size", "preset", "seed", "out", "verbose")
ALIASED = {
    "model__n_clusters": "n_clusters",
    "data__image_size": "image_size",
    "training__seed": "seed",
    "data__path": "fit's X",
}
"""Configuration keys given by a constructor parameter (or by ``fit``'s data)."""


def _config_keys() -> tuple[str, ...]:
    from astrovader.config.core import SECTIONS

    keys = (
        f"{section}__{field.name}"
        for section, cls in SECTIONS.items()
        for field in dataclasses.fields(cls)
    )
    return tuple(key for key in keys if key not in ALIASED)


CONFIG_KEYS = _config_keys()


class Clusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster galaxy images and generate new ones (scikit-learn conventions).

    Args:
        n_clusters: K, or ``"auto"`` (chosen by pick-k after γ-training).
        image_size: Side the images are read at (default: the images' own side for an
            array, else the preset's).
        preset: ``"quickstart"`` (small images, short schedule), ``"default"`` (the
            package defaults) or ``"paper"`` (``experiments/paper.toml``'s method).
        seed: ``training.seed``.
        out: The run directory ``fit`` writes (default: a new temporary directory,
            removed when the estimator is garbage-collected).
        verbose: 0 is silent; 1 shows tqdm progress (notebook bars in Jupyter).
        **config: Further configuration keys as ``section__key=value`` (None: the
            preset's value).

    Raises:
        AstrovaderError: a parameter that is no configuration key.
    """

    def __init__(
        self,
        n_clusters=12,
        image_size=None,
        *,
        preset="quickstart",
        seed=0,
        out=None,
        verbose=1,
        **config,
    ):
        self.n_clusters = n_clusters
        self.image_size = image_size
        self.preset = preset
        self.seed = seed
        self.out = out
        self.verbose = verbose
        for key in config:
            _section_key(key)
        self._config = {key: value for key, value in config.items() if value is not None}

    def __getattr__(self, name: str):
        if name in CONFIG_KEYS:  # a configuration key: the value given, or None
            return self.__dict__.get("_config", {}).get(name)
        raise AttributeError(f"'Clusterer' object has no attribute {name!r}")

    def get_params(self, deep=True):
        """The constructor's parameters and every configuration key as ``section__key``."""
        return {name: getattr(self, name) for name in (*OWN, *CONFIG_KEYS)}

    def set_params(self, **params):
        """Set parameters; ``section__key`` names set configuration keys.

        Raises:
            AstrovaderError: an unknown parameter (nothing is set then).
        """
        for key in params:
            if key not in OWN:
                _section_key(key)
        for key, value in params.items():
            if key in OWN:
                setattr(self, key, value)
            elif value is None:
                self._config.pop(key, None)
            else:
                self._config[key] = value
        return self

    def configuration(self, images=None) -> Config:
        """The :class:`~astrovader.config.Config` these parameters describe."""
        if self.preset not in PRESETS:
            raise AstrovaderError(f"preset must be one of {PRESETS}, got {self.preset!r}")
        if self.preset == "paper":
            config = Config.paper()
        elif self.preset == "quickstart":
            from importlib import resources

            config = load_config(str(resources.files("astrovader") / "presets" / "quickstart.toml"))
        else:
            config = Config()
        changes = {"model": {"n_clusters": self.n_clusters}, "training": {"seed": self.seed}}
        size = self.image_size or (images.shape[1] if images is not None else None)
        if size:
            changes["data"] = {"image_size": int(size)}
        if images is not None and images.ndim == 4:
            changes.setdefault("data", {})["bands"] = int(images.shape[3])
        for key, value in self._config.items():
            section, name = _section_key(key)
            changes = merge(changes, {section: {name: value}})
        return config.replace(**changes)

    def fit(self, X, y=None):
        """Train on ``X``: an array (N, H, W[, B]), a folder, a ``.npy`` file or a catalogue.

        Sets ``run_dir_``, ``model_``, ``labels_``, ``n_clusters_``, ``history_`` (an
        astropy Table of ``history.csv``), ``log_likelihood_`` and ``anomaly_score_``
        (the training images' scores in ``clusters.csv``); returns ``self``.
        """
        from astrovader.training.plan import plan_run
        from astrovader.training.run import fit_run

        if self.out:
            run = Path(self.out)
        else:
            run = Path(tempfile.mkdtemp(prefix="astrovader-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, run, ignore_errors=True)
        images = _as_array(X)
        if images is not None:
            run.mkdir(parents=True, exist_ok=True)
            path = run / "images.npy"
            np.save(path, images)
        else:
            path = Path(X)
        config = self.configuration(images).replace(data={"path": str(path)})
        plan = plan_run(
            config,
            run,
            overwrite=True,
            progress=bool(self.verbose),
            quickstart=self.preset == "quickstart",
        )
        fit_run(plan, verbose=0, callbacks=self._progress(plan.config))
        return self._read_run(run)

    def _progress(self, config):
        if not self.verbose:
            return ()
        from tqdm.auto import tqdm

        from astrovader.training.phases.progress import PhaseProgress

        return (PhaseProgress(config, config.training.batch_size, write=tqdm.write),)

    def _read_run(self, run: Path):
        from astropy.table import Table

        from astrovader.data.tables.clusters import read_clusters
        from astrovader.training.rundir.directory import RunDirectory

        directory = RunDirectory(run).check_finished()
        table = read_clusters(directory.clusters_path)
        self.run_dir_ = directory.path
        self.model_ = directory.model()
        self.labels_ = table["cluster"]
        self.log_likelihood_ = table.get("log_likelihood")
        self.anomaly_score_ = table.get("anomaly_score")
        self.n_clusters_ = int(self.model_.n_clusters)
        self.history_ = Table.read(directory.history_path, format="ascii.csv")
        return self

    def _images(self, X) -> np.ndarray:
        """``X`` read as the model's training images were read."""
        from astrovader.data.images.readers import load_images

        self._check_fitted()
        array = _as_array(X)
        options = self.model_.read_options()
        if array is None:
            return load_images(X, options=options, progress=bool(self.verbose)).images
        with tempfile.TemporaryDirectory() as tmp:
            np.save(Path(tmp) / "x.npy", array)
            return load_images(Path(tmp) / "x.npy", options=options, progress=False).images

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Clusterer is not fitted yet: call fit(X) first")

    def predict_proba(self, X) -> np.ndarray:
        """γ (N, K): the cluster probabilities of each image."""
        images = self._images(X)
        return self.model_.cluster_probabilities(images)

    def predict(self, X) -> np.ndarray:
        """The most probable component of each image (N,)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def transform(self, X) -> np.ndarray:
        """The embedding (N, J) of each image, in which it is clustered (``model.embed``)."""
        images = self._images(X)
        return self.model_.embed(images)[1]

    def score_samples(self, X, samples: int = 16, seed: int = 0) -> np.ndarray:
        """The anomaly score s(x) of each image, in bits: the lower, the more abnormal.

        log p̂(x) corrected for input complexity (method §7b, eq. A5;
        :mod:`astrovader.model.complexity`): the model's log-likelihood of the image
        against a PNG compressor's, so that simple artefacts (blank stamps, bars, lit
        rows) score low as well as complex ones (noise). The ``anomaly_score`` column
        of ``clusters.csv``; :meth:`log_likelihood` is log p̂(x) itself.
        """
        images = self._images(X)
        return self.model_.anomaly_score(images, samples, seed=seed)

    def log_likelihood(self, X, samples: int = 16, seed: int = 0) -> np.ndarray:
        """log p̂(x) of each image in nats (method §7a, eq. A4).

        See :mod:`astrovader.model.likelihood`.
        """
        images = self._images(X)
        return self.model_.log_likelihood(images, samples, seed=seed)

    def kneighbors(self, X=None, n_neighbors: int = 20, return_distance: bool = True):
        """The nearest training objects in μ̃, in scikit-learn's ``NearestNeighbors`` shape.

        Args:
            X: Images (an array, a folder, a ``.npy`` file or a catalogue), embedded by
                the model's own ``embed``; None queries every training object, each
                leaving itself out (as scikit-learn does).
            n_neighbors: Neighbours per query.
            return_distance: Also return the distances.

        Returns:
            ``(distances, indices)``, both (N, n_neighbors), or the indices alone:
            Euclidean distances in μ̃ and rows of ``labels_`` (the run's
            ``clusters.csv``), nearest first. The run's index
            (:mod:`astrovader.training.rundir.index`) answers: exact up to 10⁵ objects,
            HNSW above.
        """
        from astrovader.training.rundir.index import open_index

        self._check_fitted()
        index = open_index(self.run_dir_)
        if X is None:
            queries, exclude = index.index.z, np.arange(len(index.index))
        else:
            queries, exclude = self.model_.embed(self._images(X))[1], None
        distances, indices = index.kneighbors(queries, n_neighbors, exclude=exclude)
        return (distances, indices) if return_distance else indices

    def score(self, X, y=None, *, samples: int = 16, seed: int = 0) -> float:
        """The mean log-likelihood log p̂(x) of the images (scikit-learn's density convention)."""
        return float(np.mean(self.log_likelihood(X, samples, seed)))

    def sample(self, n_samples: int = 1, component=None, seed=None):
        """``(images, components)`` drawn from the mixture prior (the one sampler)."""
        self._check_fitted()
        z, components = self.model_.sample_latents(n_samples, component, seed)
        return self.model_.decode(z), components

    def save(self, path) -> Path:
        """Copy the run directory to ``path`` (``Clusterer.load`` and the CLI read it)."""
        self._check_fitted()
        target = Path(path)
        if target.resolve() != Path(self.run_dir_).resolve():
            shutil.copytree(self.run_dir_, target, dirs_exist_ok=False)
        return target

    @classmethod
    def load(cls, path) -> Clusterer:
        """A fitted Clusterer from a run directory (written by ``fit`` or ``astrovader fit``)."""
        from astrovader.training.rundir.directory import RunDirectory

        config = RunDirectory(path).check_finished().config
        found = cls(
            n_clusters=config.model.n_clusters,
            image_size=config.data.image_size,
            preset="default",
            seed=config.training.seed,
            out=str(path),
        )
        return found._read_run(Path(path))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _section_key(key: str) -> tuple[str, str]:
    """``(section, key)`` of a ``section__key`` parameter.

    Raises:
        AstrovaderError: no such configuration key (or one set by its own parameter).
    """
    section, _, name = key.partition("__")
    if key in ALIASED:
        raise AstrovaderError(f"{key!r} is given as {ALIASED[key]}")
    if key not in CONFIG_KEYS:
        raise AstrovaderError(
            f"{key!r} is not a Clusterer parameter: use {', '.join(OWN)} or section__key "
            "(a configuration key, e.g. schedule__gamma_epochs)"
        )
    return section, name


def _as_array(X):
    """``X`` as a float32 (N, H, W, B) array, or None when it is a path."""
    if isinstance(X, str | Path):
        return None
    array = np.asarray(X)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4:
        raise AstrovaderError(
            f"X must be images (N, H, W[, B]), got an array of shape {array.shape}"
        )
    return array.astype(np.float32)
