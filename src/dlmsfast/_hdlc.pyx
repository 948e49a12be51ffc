# cython: language_level=3
"""Placeholder until the layer lands."""
