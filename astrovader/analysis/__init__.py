"""Science outputs of a trained run: the analyses of the paper's Section 5 (method §7).

``astrovader report`` (:func:`astrovader.analysis.report.make_report`) writes
them all; :mod:`metrics`, :mod:`route`, :mod:`latent`, :mod:`gz2`,
:mod:`figures`, :mod:`charts`, :mod:`tables` and :mod:`html` are framework-free.
"""
