"""Model selection: the Dirichlet-process cluster count and Hyperopt searches (method §6)."""
