"""Hyperopt trials as plain JSON data, so that a saved search never runs code when read.

A finished Hyperopt trial is a document of plain values (``Trials.trials``): its
``tid``, ``state``, ``result`` (the dictionary a trial returned), ``misc`` (the
sampled ``idxs`` and ``vals`` TPE proposes from) and bookkeeping fields. They are
written as JSON (NumPy scalars as numbers, times as ``{"$datetime": ISO 8601}``)
and a ``Trials`` is rebuilt from them with Hyperopt's own checks
(``Trials.insert_trial_docs``). Unlike a pickle, a replaced file can at worst hold
wrong numbers, never code; anything that is not such a document is refused.
"""

from __future__ import annotations

import datetime
import json

import numpy as np
from hyperopt import Trials
from hyperopt.base import JOB_STATE_DONE, TRIAL_KEYS, TRIAL_MISC_KEYS

__all__ = ["FORMAT", "VERSION", "dumps", "loads"]

FORMAT = "astrovader-hyperopt-trials"
VERSION = 1
_DATETIME = "$datetime"


def _plain(value):
    """``value`` as JSON-ready data (``json``'s ``default``: NumPy values and times)."""
    if isinstance(value, datetime.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a trial holds a {type(value).__name__}, which is not plain data")


def _revive(obj: dict):
    """``json``'s ``object_hook``: ``{"$datetime": …}`` back to a time."""
    if set(obj) == {_DATETIME}:
        return datetime.datetime.fromisoformat(obj[_DATETIME])
    return obj


def dumps(trials: Trials) -> str:
    """The finished trials of ``trials`` as a JSON text."""
    done = [doc for doc in trials.trials if doc["state"] == JOB_STATE_DONE]
    return json.dumps({"format": FORMAT, "version": VERSION, "trials": done}, default=_plain)


def _check_doc(doc, index: int) -> None:
    if not isinstance(doc, dict):
        raise ValueError(f"trial {index} is not an object")
    missing = [key for key in TRIAL_KEYS if key not in doc]
    if missing:
        raise ValueError(f"trial {index} has no {missing[0]!r}")
    misc = doc["misc"]
    if not isinstance(misc, dict) or any(key not in misc for key in TRIAL_MISC_KEYS):
        raise ValueError(f"trial {index} has no complete 'misc'")
    if isinstance(doc["tid"], bool) or not isinstance(doc["tid"], int) or doc["tid"] < 0:
        raise ValueError(f"trial {index} has tid {doc['tid']!r}")
    if doc["state"] != JOB_STATE_DONE or not isinstance(doc["result"], dict):
        raise ValueError(f"trial {index} is not a finished trial")
    for key in ("idxs", "vals"):
        if not isinstance(misc[key], dict) or not all(
            isinstance(v, list) for v in misc[key].values()
        ):
            raise ValueError(f"trial {index} has malformed misc.{key}")


def loads(text: str) -> Trials:
    """A ``Trials`` holding the trials of a JSON text written by :func:`dumps`.

    Raises:
        ValueError: the text is not JSON, not this format, or a trial is malformed.
    """
    data = json.loads(text, object_hook=_revive)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if data.get("version") != VERSION:
        raise ValueError(f"format version {data.get('version')!r}, expected {VERSION}")
    docs = data.get("trials")
    if not isinstance(docs, list):
        raise ValueError("no list of trials")
    for index, doc in enumerate(docs):
        _check_doc(doc, index)
    tids = [doc["tid"] for doc in docs]
    if len(set(tids)) != len(tids):
        raise ValueError("two trials share a tid")
    trials = Trials()
    try:
        trials.insert_trial_docs(docs)
    except Exception as exc:  # Hyperopt's InvalidTrial and the checks of its encoder
        raise ValueError(f"Hyperopt refuses a trial ({' '.join(str(exc).split())})") from None
    trials.refresh()
    return trials
