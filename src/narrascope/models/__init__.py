"""Trained estimators on one base (``artefact.Estimator``) and the pieces they share."""
