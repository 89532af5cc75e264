"""β, phase and learning rate at every phase boundary of the paper's Table 1."""

import itertools

import pytest

from astrovader.config import Config, OptimizerConfig
from astrovader.training.phases.schedule import (
    ANNEAL,
    GAMMA,
    STATIC,
    decay_rate,
    learning_rate_at,
    loss_weights,
    phase_at,
)

TABLE1 = Config().schedule  # T_γ=100, T_β=25, T_s=25, M=5


def test_table1_total_is_350():
    assert TABLE1.total_epochs == 350


@pytest.mark.parametrize(
    ("epoch", "phase", "period", "beta"),
    [
        (0, GAMMA, -1, 0.0),
        (99, GAMMA, -1, 0.0),
        (100, ANNEAL, 0, 0.0),
        (101, ANNEAL, 0, (1 / 25) ** 3),
        (112, ANNEAL, 0, (12 / 25) ** 3),
        (124, ANNEAL, 0, (24 / 25) ** 3),
        (125, STATIC, 0, 1.0),
        (149, STATIC, 0, 1.0),
        (150, ANNEAL, 1, 0.0),
        (175, STATIC, 1, 1.0),
        (300, ANNEAL, 4, 0.0),
        (324, ANNEAL, 4, (24 / 25) ** 3),
        (325, STATIC, 4, 1.0),
        (349, STATIC, 4, 1.0),
    ],
)
def test_phase_and_beta_at_boundaries(epoch, phase, period, beta):
    state = phase_at(epoch, TABLE1)
    assert (state.phase, state.period) == (phase, period)
    assert state.beta == pytest.approx(beta, rel=1e-12)


def test_loss_weights_per_phase():
    loss = Config.paper().loss
    assert loss_weights(phase_at(5, TABLE1), loss) == (0.0005, 0.0)
    kl, gmm = loss_weights(phase_at(100, TABLE1), loss)
    assert kl == 0.0 and gmm == pytest.approx(0.0005 * 0.3)
    kl, gmm = loss_weights(phase_at(130, TABLE1), loss)
    assert kl == 0.0 and gmm == pytest.approx(1.0005 * 0.3)


def test_learning_rate_staircase_reaches_floor():
    opt = OptimizerConfig()  # 3e-4 → 1e-6, every 5 epochs
    rate = decay_rate(opt, 350)
    assert rate == pytest.approx((1e-6 / 3e-4) ** (5 / 350))
    assert learning_rate_at(0, opt, 350) == pytest.approx(3e-4)
    assert learning_rate_at(4, opt, 350) == pytest.approx(3e-4)
    assert learning_rate_at(5, opt, 350) == pytest.approx(3e-4 * rate)
    assert learning_rate_at(100, opt, 350) == pytest.approx(3e-4 * rate**20)
    assert learning_rate_at(349, opt, 350) == pytest.approx(3e-4 * rate**69)
    assert learning_rate_at(350, opt, 350) == pytest.approx(1e-6)
    assert learning_rate_at(1000, opt, 350) == pytest.approx(1e-6)
    lrs = [learning_rate_at(e, opt, 350) for e in range(350)]
    assert all(a >= b for a, b in itertools.pairwise(lrs))
