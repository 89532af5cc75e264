"""The run directory: its paths and files, checkpoints, history and similarity index.

A run directory opened one way by every command (:mod:`.directory`), the atomic
per-epoch checkpoints (:mod:`.checkpoint`), ``history.csv`` (:mod:`.history`) and
the run's similarity index (:mod:`.index`). The names are re-exported lazily.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "CHECKPOINT_NAME": "checkpoint",
    "COLUMNS": "history",
    "CONFIG_NAME": "checkpoint",
    "HistoryWriter": "history",
    "KEY": "index",
    "ModelIndexes": "index",
    "NOISE_GROUP": "checkpoint",
    "OBJECTS": "index",
    "Objects": "index",
    "RUN_FILES": "directory",
    "RUN_NAME": "index",
    "RunCheckpoint": "checkpoint",
    "RunDirectory": "directory",
    "RunIndex": "index",
    "build_index": "index",
    "check_out": "directory",
    "check_resumable": "checkpoint",
    "current": "index",
    "data_fingerprint": "index",
    "data_name": "index",
    "expected_size": "checkpoint",
    "history_columns": "history",
    "index_dir": "index",
    "index_key": "index",
    "open_index": "index",
    "read_history": "history",
    "restore": "checkpoint",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
