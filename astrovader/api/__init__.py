"""The notebook API: :class:`~astrovader.api.clusterer.Clusterer`, a scikit-learn estimator."""

from astrovader.api.clusterer import Clusterer

__all__ = ["Clusterer"]
