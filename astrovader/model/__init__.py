"""Trainable pieces: the network, the mixture layers and the AstroVaDEr model."""
