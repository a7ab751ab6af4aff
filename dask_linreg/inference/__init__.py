"""Inference results (immutable snapshots), summaries and tests."""
