"""``history.csv``: one row per epoch with its phase, learning rate, β and every loss term."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import keras

from astrovader._io import write_text_atomic
from astrovader.config import ScheduleConfig
from astrovader.model.steps import LOSS_TERMS
from astrovader.training.phases.schedule import phase_at

__all__ = ["COLUMNS", "HistoryWriter", "history_columns", "read_history"]

COLUMNS = ("epoch", "phase", "lr", "beta", *LOSS_TERMS, *(f"val_{t}" for t in LOSS_TERMS))


def history_columns(terms) -> tuple[str, ...]:
    """The columns of a history whose model logs the loss ``terms``, in :data:`COLUMNS`'s order."""
    logged = {*terms, *(f"val_{t}" for t in terms)}
    return tuple(c for c in COLUMNS if c in COLUMNS[:4] or c in logged)


def read_history(path: str | Path) -> list[dict[str, str]]:
    """The rows of a history file (empty if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class HistoryWriter(keras.callbacks.Callback):
    """Rewrite ``history.csv`` atomically after every epoch.

    On a resumed run the rows of epochs before the restart are kept and later
    ones (an interrupted epoch's) dropped.

    Args:
        path: The CSV file.
        schedule: The schedule, to label each epoch's phase and β.
    """

    def __init__(self, path: str | Path, schedule: ScheduleConfig):
        super().__init__()
        self.path = Path(path)
        self.schedule = schedule
        self.rows: list[dict] = []

    def on_train_begin(self, logs=None):
        start = int(self.model.epochs_done.numpy())
        self.rows = [row for row in read_history(self.path) if int(row["epoch"]) <= start]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        state = phase_at(epoch, self.schedule)
        row = {
            "epoch": epoch + 1,
            "phase": state.phase,
            "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            "beta": state.beta,
        }
        fields = history_columns(self.model.trackers)
        row.update({key: float(logs[key]) for key in fields[4:] if key in logs})
        self.rows.append(row)
        out = io.StringIO()
        # Rows kept from before a resume may lack a column or hold one no longer logged.
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text_atomic(self.path, out.getvalue())
