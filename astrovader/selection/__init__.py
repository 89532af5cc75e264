"""Model selection: the Dirichlet-process cluster count and Hyperopt searches (SPEC §6)."""
