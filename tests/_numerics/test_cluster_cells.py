"""The clusters of an absorbed model kept in its pass (ClusterCells)."""

import numpy as np
import pytest

from dask_linreg._numerics.cluster_cells import ClusterCells, block_cluster_cells


def _data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    firm = rng.integers(0, 25, n)
    year = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n)
    state = firm % 6
    z = rng.normal(size=(n, 3)) + 1e4 * np.array([1.0, 0.0, 0.0])
    weights = rng.uniform(0.5, 2.0, n)
    return firm, year, state, z, weights


def _cells(labels, z, weights, clusterings, cuts, n_factors=2):
    parts = [
        block_cluster_cells(
            [z[a:b]],
            weights[a:b],
            [k[a:b] for k in labels],
            n_factors=n_factors,
            clusterings=clusterings,
            names=("firm", "year", "state", "other")[: len(labels)],
        )
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    return parts


@pytest.mark.parametrize("cuts", [[0, 600], [0, 7, 250, 251, 600]])
def test_cluster_comoments_of_any_effects_equal_the_demeaned_rows(cuts):
    firm, year, state, z, weights = _data()
    labels = (firm, year, state)
    merged = ClusterCells.merge_all(_cells(labels, z, weights, (2,), cuts))
    rng = np.random.default_rng(1)
    firm_keys, year_keys = np.unique(firm), np.unique(year)
    effects = (
        rng.normal(size=(len(firm_keys), 3)) + 1e4 * np.array([1.0, 0, 0]),
        rng.normal(size=(len(year_keys), 3)),
    )
    scores = merged.absorbed_scores((firm_keys, year_keys), effects)
    demeaned = (
        z
        - effects[0][np.searchsorted(firm_keys, firm)]
        - effects[1][np.searchsorted(year_keys, year)]
    )
    for g, label in enumerate(scores.cluster_keys[0]):
        rows = state == label
        expected = (demeaned[rows] * weights[rows, None]).T @ demeaned[rows]
        np.testing.assert_allclose(scores.comoments[g], expected, rtol=1e-9, atol=1e-7)
    coef = np.array([[0.3], [-1.2]])
    labels_out, per_cluster = scores.scores(coef, clustering=0)
    np.testing.assert_array_equal(labels_out, np.unique(state))
    residual = demeaned[:, 2] - demeaned[:, :2] @ coef[:, 0]
    for g, label in enumerate(labels_out):
        rows = state == label
        expected = demeaned[rows, :2].T @ (weights[rows] * residual[rows])
        np.testing.assert_allclose(per_cluster[g, :, 0], expected, rtol=1e-8, atol=1e-6)
    assert scores.nested(0) == (0,)


def test_levels_outside_the_fit_and_zero_weight_clusters_are_left_out():
    firm, year, state, z, weights = _data(2)
    weights[state == 5] = 0.0
    # Firm 0 a singleton (one row of positive weight), as fits leave out.
    weights[np.flatnonzero(firm == 0)[1:]] = 0.0
    merged = ClusterCells.merge_all(
        _cells((firm, year, state), z, weights, (2,), [0, 300, 600])
    )
    firm_keys = np.unique(firm)[1:]
    year_keys = np.unique(year)
    effects = (np.zeros((len(firm_keys), 3)), np.zeros((len(year_keys), 3)))
    scores = merged.absorbed_scores((firm_keys, year_keys), effects)
    np.testing.assert_array_equal(scores.cluster_keys[0], np.arange(5))
    rows = (state == 0) & (firm != 0)
    expected = (z[rows] * weights[rows, None]).T @ z[rows]
    np.testing.assert_allclose(scores.comoments[0], expected, rtol=1e-12)


def test_two_clusterings_score_by_each_and_by_their_pairs():
    firm, year, state, z, weights = _data(3)
    other = np.random.default_rng(4).integers(0, 3, len(firm))
    parts = _cells(
        (firm, year, state, other), z, weights, (2, 3), [0, 100, 600], n_factors=2
    )
    merged = ClusterCells.merge_all(parts)
    keys = (np.unique(firm), np.unique(year))
    effects = (np.zeros((len(keys[0]), 3)), np.zeros((len(keys[1]), 3)))
    scores = merged.absorbed_scores(keys, effects)
    coef = np.array([[0.5], [0.1]])
    residual = z[:, 2] - z[:, :2] @ coef[:, 0]
    for clustering, labels in [(0, state), (1, other)]:
        found, summed = scores.scores(coef, clustering)
        for g, label in enumerate(found):
            rows = labels == label
            expected = z[rows, :2].T @ (weights[rows] * residual[rows])
            np.testing.assert_allclose(summed[g, :, 0], expected, rtol=1e-9)
    _, pairs = scores.scores(coef)
    assert len(pairs) == len({(a, b) for a, b in zip(state, other, strict=True)})


def test_partitions_merge_back_to_the_whole():
    firm, year, state, z, weights = _data(5)
    (whole,) = _cells((firm, year, state), z, weights, (2,), [0, 600])
    merged = ClusterCells.merge_all(whole.partition(3))
    for name in ("counts", "weights", "offsets", "within"):
        np.testing.assert_allclose(getattr(merged, name), getattr(whole, name))
    for a, b in zip(merged.keys, whole.keys, strict=True):
        np.testing.assert_array_equal(a, b)


def test_too_many_cells_raise_memory_error_naming_the_columns():
    firm, year, state, z, weights = _data()
    with pytest.raises(MemoryError, match="'state'.*'firm' \\+ 'year'"):
        block_cluster_cells(
            [z],
            weights,
            [firm, year, state],
            n_factors=2,
            clusterings=(2,),
            names=("firm", "year", "state"),
            max_bytes=1000,
        )
