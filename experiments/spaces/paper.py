"""The search space around the paper's architecture and settings (method §2–5, paper Table 1).

Centred on the published settings: filters (64, 64, 16), kernels (3, 5, 5),
decoder kernels (5, 5, 5), 20 latent dimensions, learning rate 3e-4, loss
weights γ = 0.0005 and w_GMM = 0.3. The schedule lengths are searched over short
schedules (paper_base.toml), since full s3VDC runs take hours each; scale the
chosen lengths up for the final run.

    astrovader search experiments/spaces/paper.py --config experiments/spaces/paper_base.toml \
        --set data.path=IMAGES --max-evals 50 --out paper-search

The loss weights change what val_loss measures; to compare trials on
reconstruction alone use --objective val_reconstruction.
"""

from math import log

from hyperopt import hp

SPACE = {
    "model.filters": hp.choice(
        "model.filters", [[32, 32, 16], [64, 64, 16], [64, 64, 32], [128, 64, 16]]
    ),
    "model.kernels": hp.choice("model.kernels", [[3, 3, 3], [3, 5, 5], [5, 5, 5]]),
    "model.decoder_kernels": hp.choice("model.decoder_kernels", [[3, 3, 3], [5, 5, 5]]),
    "model.latent_dim": hp.quniform("model.latent_dim", 10, 32, 2),
    "optimizer.learning_rate": hp.loguniform("optimizer.learning_rate", log(1e-4), log(1e-3)),
    "schedule.gamma_epochs": hp.quniform("schedule.gamma_epochs", 5, 20, 5),
    "schedule.anneal_epochs": hp.quniform("schedule.anneal_epochs", 2, 6, 1),
    "schedule.static_epochs": hp.quniform("schedule.static_epochs", 1, 5, 1),
    "schedule.periods": hp.choice("schedule.periods", [1, 2, 3]),
    "loss.gamma": hp.loguniform("loss.gamma", log(1e-4), log(2e-3)),
    "loss.gmm_scale": hp.uniform("loss.gmm_scale", 0.1, 1.0),
}
