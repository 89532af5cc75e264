"""Images to the model: ``tf.data`` pipelines, TFRecord shards, streams and the split.

Owns how images reach training and inference: the pipelines over arrays in memory
(:mod:`.memory`: epoch-keyed shuffles and flips), packed uint8 TFRecord shards and
their pipelines (:mod:`.shards`), bounded-memory batches of ``(ids, images)`` from
any data or any part of it (:mod:`.stream`) and the seeded training/validation
split (:mod:`.split`). The names are re-exported lazily: :mod:`.split` and
:mod:`.stream` load without TensorFlow, :mod:`.memory` and :mod:`.shards` need it.
"""

from astrovader._lazy import lazy_exports

_EXPORTS = {
    "EpochCounter": "memory",
    "ImageStream": "stream",
    "augment": "memory",
    "batch_key": "memory",
    "evaluation_dataset": "memory",
    "keyed": "memory",
    "memory_stream": "stream",
    "open_stream": "stream",
    "pack_folder": "shards",
    "read_ids": "stream",
    "read_manifest": "shards",
    "shard_evaluation_dataset": "shards",
    "shard_training_dataset": "shards",
    "shuffled_blocks": "memory",
    "split_indices": "split",
    "to_uint8": "shards",
    "training_dataset": "memory",
    "write_tfrecords": "shards",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
