"""Benchmarks: each module here has ``main() -> None`` and prints a Rich table of ratios
against a named peer measured in the same run. ``make bench`` (``python -m bench``) runs them all;
``python -m bench analysis`` runs one."""
