"""The pipeline: an ordered list of stages that each take a batch of documents and return it."""

from narrascope.pipeline.pipeline import Pipeline, Stage

__all__ = ["Pipeline", "Stage"]
