"""One frozen, typed configuration, read from and written to TOML (docs/method.md §1–5).

:class:`Config` holds one dataclass per section (:mod:`~astrovader.config.sections`),
whose values are checked by the rules of :mod:`~astrovader.config.rules`;
:func:`load_config` reads TOML files and ``--set`` overrides, and
:mod:`~astrovader.config.legacy` the published INI format. Framework-free.
"""

from astrovader.config.core import Config, from_dict, to_dict
from astrovader.config.files import load_config, parse_override
from astrovader.config.options import PAPER_METHOD, AugmentConfig, MixtureConfig
from astrovader.config.rules import PRECISIONS, STRATEGIES
from astrovader.config.sections import (
    CatalogConfig,
    DataConfig,
    LossConfig,
    ModelConfig,
    OptimizerConfig,
    PickKConfig,
    ScalingConfig,
    ScheduleConfig,
    TrainingConfig,
)

__all__ = [
    "PAPER_METHOD",
    "PRECISIONS",
    "STRATEGIES",
    "AugmentConfig",
    "CatalogConfig",
    "Config",
    "DataConfig",
    "LossConfig",
    "MixtureConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PickKConfig",
    "ScalingConfig",
    "ScheduleConfig",
    "TrainingConfig",
    "from_dict",
    "load_config",
    "parse_override",
    "to_dict",
]
