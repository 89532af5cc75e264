"""The mixture prior of a run: initialised, updated, reported and counted (methods §5, §6, §9).

The mini-batch GMM initialisation (:mod:`.gmm_init`), the EM update with tied
views (:mod:`.mixture_em`, :mod:`.tied_views`), the reported partition's final
mixture (:mod:`.final_mixture`), and the cluster count: the Dirichlet-process
counts (:mod:`.pick_k`, framework-free), their files (:mod:`.pick_k_report`) and
``n_clusters = "auto"`` (:mod:`.auto_clusters`). The names are re-exported lazily.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "COUNTS_NAME": "pick_k_report",
    "DEFAULTS": "pick_k",
    "EmbedTiedViews": "tied_views",
    "EpochViews": "mixture_em",
    "FINAL_FORMS": "final_mixture",
    "FIT_POINTS": "final_mixture",
    "FinalMixture": "final_mixture",
    "GMMInitialisation": "gmm_init",
    "HISTOGRAM_NAME": "pick_k_report",
    "MAX_ITER": "pick_k",
    "MixtureEM": "mixture_em",
    "PLACEHOLDER_CLUSTERS": "auto_clusters",
    "PickKResult": "pick_k",
    "REG_COVAR": "final_mixture",
    "SUMMARY_NAME": "pick_k_report",
    "TeacherSnapshot": "mixture_em",
    "TiedViews": "tied_views",
    "auto_model_config": "auto_clusters",
    "caveats": "pick_k_report",
    "check_settings": "pick_k",
    "checkpoint_clusters": "auto_clusters",
    "choose_clusters": "auto_clusters",
    "choose_final_mixture": "final_mixture",
    "choose_k": "pick_k",
    "count_components": "pick_k",
    "counts_csv": "pick_k_report",
    "describe": "pick_k_report",
    "em_step": "mixture_em",
    "embed_views": "tied_views",
    "fit_mixture": "gmm_init",
    "from_point_fit": "mixture_em",
    "histogram_figure": "pick_k_report",
    "pick_clusters": "auto_clusters",
    "pick_k_out": "pick_k_report",
    "published": "mixture_em",
    "rebuild_with_clusters": "auto_clusters",
    "reset_optimizer": "gmm_init",
    "respawn": "mixture_em",
    "sklearn_layout": "mixture_em",
    "tied_init": "mixture_em",
    "view_encoder": "tied_views",
    "with_covariance": "final_mixture",
    "write_report": "pick_k_report",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
