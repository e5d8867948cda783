"""Engines that run the pipeline over many documents: ``local`` (this process, the
runner) and ``ray`` (a Ray cluster, :mod:`narrascope.engine.ray_engine`), both writing
through :func:`~narrascope.engine.outputs.run_to_output`, so their records are identical.

Ray is optional (``pip install 'narrascope[scale]'``): nothing here imports it until
``--engine ray`` runs.
"""

from __future__ import annotations

from narrascope.engine.outputs import PARQUET, run_to_output, wants_parquet

ENGINES = ("local", "ray")


def ray_available() -> bool:
    """Whether Ray Data can be imported (the ``scale`` extra is installed)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None and (
        importlib.util.find_spec("pyarrow") is not None
    )


__all__ = ["ENGINES", "PARQUET", "ray_available", "run_to_output", "wants_parquet"]
