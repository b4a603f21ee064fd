"""Benchmarks for cds-b12: ``python -m benchmarks`` (see ``benchmarks/README.md``).

Not part of the installed package and not imported by the service.
"""
