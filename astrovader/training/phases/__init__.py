"""The s3VDC schedule and the callbacks that follow it through a run (method §5).

The schedule as pure functions of the epoch (:mod:`.schedule`), the callbacks that
set the model's weights and learning rate from it (:mod:`.callbacks`), stopping
once the partition holds still (:mod:`.stability`) or on a non-finite loss
(:mod:`.nan_guard`), and the progress of a fit (:mod:`.progress`). The names are
re-exported lazily.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "ANNEAL": "schedule",
    "EXPLAIN": "progress",
    "EpochKey": "callbacks",
    "GAMMA": "schedule",
    "MARKER": "stability",
    "NaNGuard": "nan_guard",
    "PhaseProgress": "progress",
    "PhaseState": "schedule",
    "S3VDCSchedule": "callbacks",
    "STATIC": "schedule",
    "StablePartition": "stability",
    "decay_rate": "schedule",
    "learning_rate_at": "schedule",
    "learning_rate_schedule": "callbacks",
    "loss_weights": "schedule",
    "partition": "stability",
    "phase_at": "schedule",
    "stopped_at": "stability",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
