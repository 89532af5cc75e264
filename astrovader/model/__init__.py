"""The network, the mixture layers and the AstroVaDEr model (TensorFlow / Keras 3).

Owns everything with weights and the maths it computes: pure ``keras.ops`` probability
functions (:mod:`.gmm_math`, :mod:`.em`, :mod:`.likelihood`, the view-agreement term of
:mod:`.contrastive`; the anomaly score's complexity
correction, :mod:`.complexity`, in NumPy), the custom layers
(:mod:`.reparameterize`, :mod:`.gmm_prior`, :mod:`.cluster_probability`, the random views of
:mod:`.views`), the encoder and decoder (:mod:`.network`), the model with its training step
(:mod:`.vade`, :mod:`.steps`, :mod:`.targets`, :mod:`.replicas`), its NumPy inference API
(:mod:`.api`, :mod:`.sampling`, :mod:`.embedding`: the one writer of a model's cluster table)
and loading (:mod:`.loading`, :mod:`.paper_weights`). The names are re-exported lazily:
``import astrovader.model`` alone imports no TensorFlow.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "AstroVaDEr": "vade",
    "ClusterProbability": "cluster_probability",
    "DECODER_LAYERS": "paper_weights",
    "DECODES_PER_PASS": "embedding",
    "DECODE_ROWS": "api",
    "ENCODER_LAYERS": "paper_weights",
    "GMMPrior": "gmm_prior",
    "Geometry": "network",
    "HDF5_SIGNATURE": "loading",
    "InferenceMixin": "api",
    "LOG_2PI": "gmm_math",
    "LOSS_TERMS": "steps",
    "LegacyBilinearUpSampling2D": "network",
    "MINMAX_EPSILON": "gmm_math",
    "PRIOR_LAYER": "paper_weights",
    "PUBLISHED_SETTINGS": "paper_weights",
    "PositiveFloor": "gmm_prior",
    "RandomViews": "views",
    "Reparameterize": "reparameterize",
    "SAMPLES": "likelihood",
    "SETTINGS": "vade",
    "TrainingMixin": "steps",
    "VAR_FLOOR": "em",
    "VIEW_KEYS": "views",
    "apply_if": "replicas",
    "batch_share": "replicas",
    "bottleneck_shape": "network",
    "build_decoder": "network",
    "build_encoder": "network",
    "build_projection_head": "network",
    "calibrated_variance": "likelihood",
    "calibrated_weight": "likelihood",
    "check_component": "sampling",
    "check_model_file": "loading",
    "cluster_costs": "gmm_math",
    "cluster_log_probabilities": "gmm_math",
    "combine": "likelihood",
    "complexity_bits": "complexity",
    "complexity_corrected": "complexity",
    "consistency": "em",
    "consistency_loss": "targets",
    "covariance": "em",
    "decoder_log_density": "likelihood",
    "decoder_weight": "likelihood",
    "dihedral_views": "views",
    "expected_log_gaussian": "gmm_math",
    "expected_log_likelihood": "em",
    "gaussian_blur": "views",
    "global_extrema": "replicas",
    "gmm_kl": "gmm_math",
    "image_log_likelihoods": "em",
    "import_paper_weights": "paper_weights",
    "is_full": "gmm_math",
    "latent_batches": "sampling",
    "latent_log_weights": "likelihood",
    "load_model": "loading",
    "log_gaussian": "gmm_math",
    "log_importance_weights": "likelihood",
    "m_step": "em",
    "m_step_from_statistics": "em",
    "m_step_statistics": "em",
    "make_views": "views",
    "minmax_transform": "gmm_math",
    "nt_xent": "contrastive",
    "open_model": "loading",
    "optimizer_share": "replicas",
    "precision_cholesky": "em",
    "precision_diagonal": "gmm_math",
    "read_paper_arrays": "paper_weights",
    "reconstruction_loss": "gmm_math",
    "replica_rows": "replicas",
    "restretch": "views",
    "step_logs": "replicas",
    "sum_over_replicas": "replicas",
    "tied_log_posterior": "em",
    "tied_target": "targets",
    "unit_gaussian_kl": "gmm_math",
    "unstretch": "views",
    "view_settings": "views",
    "worker_count": "replicas",
    "write_embedding": "embedding",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
