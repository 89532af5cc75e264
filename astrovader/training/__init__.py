"""The s3VDC schedule, GMM initialisation, checkpoints and the training run."""
