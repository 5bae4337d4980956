"""Tooling around the model: benchmarks, figures, the HTML build of the lessons, the PyTorch
twin, FLOP counts, process settings, checkpoint files and plots."""
