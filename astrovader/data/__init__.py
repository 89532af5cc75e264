"""Galaxy images in: readers, the built-in synthetic set, tf.data pipelines, catalogues."""
