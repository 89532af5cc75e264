"""Simulated galaxies with labels, without TensorFlow.

Owns the two engines and their writer: the built-in Sérsic galaxies (:mod:`.sersic`,
astropy's ``Sersic2D``, five classes), the GalSim galaxies (:mod:`.galsim_engine`,
six PSF-convolved classes in raw counts; the ``[sim]`` extra) and the writer of a
labelled set as PNGs, FITS stamps or multi-extension files with ``labels.csv``
(:mod:`.writer`, ``astrovader simulate``).
"""

from astrovader.data.simulated.galsim_engine import (
    GALSIM_CLASS_NAMES,
    GALSIM_PARAMETERS,
    NEIGHBOUR_PARAMETERS,
    GalsimRanges,
    render_galsim,
)
from astrovader.data.simulated.sersic import (
    CLASS_NAMES,
    PARAMETERS,
    labels_csv,
    simulate,
    simulate_flux,
    synthetic_imageset,
)
from astrovader.data.simulated.writer import render, write_simulation

__all__ = [
    "CLASS_NAMES",
    "GALSIM_CLASS_NAMES",
    "GALSIM_PARAMETERS",
    "NEIGHBOUR_PARAMETERS",
    "PARAMETERS",
    "GalsimRanges",
    "labels_csv",
    "render",
    "render_galsim",
    "simulate",
    "simulate_flux",
    "synthetic_imageset",
    "write_simulation",
]
