"""The optimisation core of carealloc: domain model, offers, batch placement, nightly
re-optimisation and the independent plan evaluator.

Pure Python with OR-Tools. It receives travel-time matrices and never computes them, and it
imports nothing from ``geodata`` or ``api``.
"""
