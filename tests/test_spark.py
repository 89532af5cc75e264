import sys

import pytest

from astrovader._spark import spark_session
from astrovader.errors import AstrovaderError


def test_spark_connect_remote_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.example:15002")
    with pytest.raises(AstrovaderError, match=r"Spark Connect \(SPARK_REMOTE=sc://spark"):
        spark_session()
    monkeypatch.delenv("SPARK_REMOTE")
    with pytest.raises(AstrovaderError, match="classic Spark master"):
        spark_session("sc://spark.example:15002")


def test_missing_pyspark_names_the_extra(monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what an absent package looks like
    with pytest.raises(AstrovaderError, match=r"needs pyspark; .*astrovader\[spark\]"):
        spark_session()
