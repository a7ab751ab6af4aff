"""Panels shared by the tests of absorbed fixed effects."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def panel():
    """An unbalanced firm x year panel: firms of very different sizes,
    firms seen in a few years only, singletons that appear only once the
    first ones are gone (a firm of two rows, one in a year of its own)."""
    rng = np.random.default_rng(21)
    n = 2400
    firm = rng.zipf(1.5, n) % 300
    year = rng.integers(2000, 2025, n)
    frame = pd.DataFrame(
        {
            "firm": np.concatenate([firm, [900, 900, 901, 902]]),
            "year": np.concatenate([year, [1990, 2001, 1991, 2003]]),
        }
    )
    n = len(frame)
    frame["state"] = frame["firm"] % 7
    frame["x1"] = rng.normal(size=n) + 0.3 * (frame["year"] - 2000)
    frame["x2"] = rng.normal(size=n) + np.sin(frame["firm"]) + 1e4
    frame["w"] = rng.uniform(0.5, 2.0, n)
    frame["y"] = (
        frame.x1
        - 0.5 * frame.x2
        + np.cos(frame.firm) * 3
        + 0.2 * (frame.year - 2000)
        + rng.normal(size=n) * (1 + frame.x1.abs())
    )
    return frame.sample(frac=1.0, random_state=2).reset_index(drop=True)


@pytest.fixture(scope="module")
def movers():
    """Workers moving between firms (the AKM design): two factors of many
    levels each, connected by the movers only, plus a year."""
    rng = np.random.default_rng(8)
    workers, spells = 1500, 4
    worker = np.repeat(np.arange(workers), spells)
    home = rng.integers(0, 900, workers)
    moved = rng.uniform(size=len(worker)) < 0.3
    firm = np.where(moved, rng.integers(0, 900, len(worker)), home[worker])
    n = len(worker)
    frame = pd.DataFrame(
        {"worker": worker, "firm": firm, "year": rng.integers(2000, 2010, n)}
    )
    frame["x1"] = rng.normal(size=n) + np.sin(frame.firm)
    frame["x2"] = rng.normal(size=n) + 0.1 * frame.year + 1e3
    frame["w"] = rng.uniform(0.5, 2.0, n)
    frame["y"] = (
        frame.x1
        - 0.5 * frame.x2
        + np.cos(frame.worker)
        + np.sin(3 * frame.firm)
        + rng.normal(size=n)
    )
    return frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
