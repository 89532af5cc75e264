"""Model selection: Hyperopt searches over configurations and the embedding pick-k counts.

Owns the search space (:mod:`.space`), one trial (:mod:`.trial`: a short run through
:func:`~astrovader.training.run.fit_run`, scored), the search loop and its records on disk
(:mod:`.search`, :mod:`.records`, :mod:`.trials_json`), the Spark backend (:mod:`.spark`) and
the embedding a Dirichlet-process count is run on (:mod:`.embedding`; method §6). The names
are re-exported lazily.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "BACKENDS": "search",
    "BEST_CONFIG": "records",
    "FORMAT": "trials_json",
    "SEARCH_META": "search",
    "SearchOptions": "search",
    "TRIALS_JSON": "records",
    "TRIALS_PICKLE": "records",
    "TRIALS_TABLE": "records",
    "VERSION": "trials_json",
    "apply_params": "space",
    "dumps": "trials_json",
    "embed_source": "embedding",
    "evaluate": "trial",
    "load_space": "space",
    "load_trials": "records",
    "loads": "trials_json",
    "plain_params": "space",
    "plain_trials": "records",
    "record_trials": "records",
    "run_search": "search",
    "save_trials": "records",
    "spark_trials": "spark",
    "trial_dir": "records",
    "write_best": "records",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
