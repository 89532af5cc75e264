"""Tables out, without TensorFlow: cluster tables, FITS streams, parts and their merge.

Owns every table the package writes of a data set: the one cluster-table writer and
reader (:mod:`.clusters`: ``clusters.csv`` and ``embed``'s CSV or FITS), the one
streaming FITS writer (:mod:`.fits_writer`, also behind ``generate``), the I-th of N
parts of a data set and its header cards (:mod:`.parts`) and the merge of part
tables into one (:mod:`.merge`, ``astrovader merge``).
"""

from astrovader.data.tables.clusters import (
    ANOMALY,
    LOG_LIKELIHOOD,
    SCORES,
    TABLE_SUFFIXES,
    cluster_table,
    csv_body,
    csv_cards,
    id_length,
    read_clusters,
    write_clusters,
    write_stream,
)
from astrovader.data.tables.fits_writer import empty_primary, fits_stream, provenance, table_header
from astrovader.data.tables.merge import merge_tables
from astrovader.data.tables.parts import Part, part_of

__all__ = [
    "ANOMALY",
    "LOG_LIKELIHOOD",
    "SCORES",
    "TABLE_SUFFIXES",
    "Part",
    "cluster_table",
    "csv_body",
    "csv_cards",
    "empty_primary",
    "fits_stream",
    "id_length",
    "merge_tables",
    "part_of",
    "provenance",
    "read_clusters",
    "table_header",
    "write_clusters",
    "write_stream",
]
