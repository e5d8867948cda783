"""The pipeline: an ordered list of stages that each take a batch of documents and return it."""

from narrascope.pipeline.pipeline import Cancelled, Pipeline, Stage

__all__ = ["Cancelled", "Pipeline", "Stage"]
