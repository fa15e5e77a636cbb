"""Interplay: conversational-recommendation dialogue datasets from two independently fine-tuned simulators."""

__version__ = "0.1.0"
