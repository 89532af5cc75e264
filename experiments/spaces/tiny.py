"""A tiny search space for tests and demonstrations (with tiny_base.toml).

    astrovader search experiments/spaces/tiny.py --config experiments/spaces/tiny_base.toml \
        --max-evals 3 --out tiny-search
"""

from math import log

from hyperopt import hp

SPACE = {
    "model.latent_dim": hp.choice("model.latent_dim", [3, 4]),
    "optimizer.learning_rate": hp.loguniform("optimizer.learning_rate", log(1e-3), log(5e-3)),
    "loss.gmm_scale": hp.uniform("loss.gmm_scale", 0.1, 0.5),
}
