"""Inference at survey scale: stream images through a trained model into tables."""
