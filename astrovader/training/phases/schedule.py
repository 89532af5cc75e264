"""The s3VDC schedule as pure functions of the epoch (method §5, paper Table 1)."""

from __future__ import annotations

import dataclasses
import math

from astrovader.config import LossConfig, OptimizerConfig, ScheduleConfig

__all__ = [
    "ANNEAL",
    "GAMMA",
    "STATIC",
    "PhaseState",
    "decay_rate",
    "learning_rate_at",
    "loss_weights",
    "phase_at",
]

GAMMA, ANNEAL, STATIC = "gamma", "anneal", "static"


@dataclasses.dataclass(frozen=True)
class PhaseState:
    """Where an epoch sits in the schedule.

    Attributes:
        phase: ``"gamma"`` (γ-training), ``"anneal"`` or ``"static"``.
        period: Annealing–static period m (−1 during γ-training).
        t: Epochs since the start of the period (or of training).
        beta: The annealing weight β (0 during γ-training).
    """

    phase: str
    period: int
    t: int
    beta: float


def phase_at(epoch: int, schedule: ScheduleConfig, fraction: float = 0.0) -> PhaseState:
    """Phase and β of a 0-based epoch, ``fraction`` ∈ [0, 1) of the way through it.

    γ-training for e < T_γ; then, with t = e − T_γ − m (T_β + T_s), annealing
    β = ((t + fraction) / T_β)^p for t < T_β and the static phase β = 1 for the
    rest of the period. Epochs past the last period stay static. ``fraction`` 0
    is the paper's per-epoch β; a step's fraction gives β per step.
    """
    if epoch < 0:
        raise ValueError(f"epoch must be non-negative, got {epoch}")
    if epoch < schedule.gamma_epochs:
        return PhaseState(GAMMA, -1, epoch, 0.0)
    since = epoch - schedule.gamma_epochs
    length = schedule.anneal_epochs + schedule.static_epochs
    period = min(since // length, max(schedule.periods - 1, 0)) if length else 0
    t = since - period * length
    if t < schedule.anneal_epochs:
        beta = ((t + fraction) / schedule.anneal_epochs) ** schedule.anneal_power
        return PhaseState(ANNEAL, period, t, beta)
    return PhaseState(STATIC, period, t, 1.0)


def loss_weights(state: PhaseState, loss: LossConfig, factor: float = 1.0) -> tuple[float, float]:
    """The weights (w_KL, w_GMM) of an epoch's loss.

    γ-training: L_rec + γ L_KL (eq. 14); afterwards L_rec + (β + γ) s L_GMM (eqs. 15–16),
    with s = ``gmm_scale`` · ``factor`` (:meth:`~astrovader.config.LossConfig.factor`).
    """
    if state.phase == GAMMA:
        return loss.gamma, 0.0
    return 0.0, (state.beta + loss.gamma) * loss.gmm_scale * factor


def decay_rate(optimizer: OptimizerConfig, total_epochs: int) -> float:
    """rate = (lr_min / lr₀)^(n_lr / total_epochs), so lr reaches the floor at the end."""
    ratio = optimizer.min_learning_rate / optimizer.learning_rate
    return ratio ** (optimizer.decay_every / max(total_epochs, 1))


def learning_rate_at(epoch: int, optimizer: OptimizerConfig, total_epochs: int) -> float:
    """Staircase exponential decay: lr₀ · rate^⌊e / n_lr⌋, never below the floor."""
    steps = math.floor(epoch / optimizer.decay_every)
    lr = optimizer.learning_rate * decay_rate(optimizer, total_epochs) ** steps
    return max(lr, optimizer.min_learning_rate)
