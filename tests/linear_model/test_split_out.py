"""Keyed statistics merged in ``split_out`` trees of hashed levels give the
same fit as one tree: one and two absorbed factors, split= and cluster=
fits, with the same single compute."""

from dataclasses import replace

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_linreg import FixedEffectsRegression, ols
from dask_linreg._numerics.absorbed import GroupMoments, block_group_moments


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(4)
    n = 3000
    data = pd.DataFrame(
        {
            "firm": rng.integers(0, 400, n),
            "year": rng.choice([f"y{k}" for k in range(15)], n),
            "x1": rng.normal(size=n) + 1e4,
            "x2": rng.normal(size=n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    data["y"] = data.x1 - data.x2 + np.sin(data.firm) + rng.normal(size=n)
    return data


@pytest.mark.parametrize("split_out", [2, 5])
@pytest.mark.parametrize("absorbed", ["firm", "firm + year"])
def test_absorbed_fits_equal_one_tree(frame, split_out, absorbed, computes):
    source = dd.from_pandas(frame, npartitions=7)
    formula = f"y ~ x1 + x2 | {absorbed}"
    one = ols(formula, source, weights="w")
    computes.clear()
    many = ols(formula, source, weights="w", split_out=split_out)
    assert len(computes) == 1
    np.testing.assert_allclose(many.coef_, one.coef_, rtol=1e-12)
    assert many.n_effects_ == one.n_effects_
    assert many.n_singletons_ == one.n_singletons_
    np.testing.assert_allclose(many.inference().bse, one.inference().bse, rtol=1e-10)
    effects = (
        many.fixed_effects_
        if isinstance(many.fixed_effects_, dict)
        else {"firm": many.fixed_effects_}
    )
    reference = (
        one.fixed_effects_
        if isinstance(one.fixed_effects_, dict)
        else {"firm": one.fixed_effects_}
    )
    for column, table in effects.items():
        pd.testing.assert_series_equal(table, reference[column], rtol=1e-9)


def test_kept_clusters_split_and_two_way_equal_one_tree(frame):
    source = dd.from_pandas(frame, npartitions=6)
    absorbed = ols("y ~ x1 + x2 | firm", source, cluster="firm", split_out=3)
    reference = ols("y ~ x1 + x2 | firm", source, cluster="firm")
    for cov_type in ("cluster", "CRV3"):
        np.testing.assert_allclose(
            absorbed.inference(cov_type=cov_type).bse,
            reference.inference(cov_type=cov_type).bse,
            rtol=1e-10,
        )
    split = ols("y ~ x1 + x2", source, split="year", split_out=4)
    pd.testing.assert_frame_equal(
        split.params, ols("y ~ x1 + x2", source, split="year").params, rtol=1e-10
    )
    both = ols("y ~ x1 + x2", source, cluster=["firm", "year"], split_out=3)
    np.testing.assert_allclose(
        both.inference(cov_type="cluster").bse,
        ols("y ~ x1 + x2", source, cluster=["firm", "year"])
        .inference(cov_type="cluster")
        .bse,
        rtol=1e-10,
    )
    with pytest.raises(ValueError, match="split_out"):
        ols("y ~ x1 + x2", source, split="year", split_out=0)
    with pytest.raises(ValueError, match="split_out"):
        FixedEffectsRegression("firm", split_out=0).fit(
            frame[["x1", "firm"]], frame["y"]
        )


def test_partitions_of_a_block_merge_to_it():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 50, 400)
    z = rng.normal(size=(400, 3)) + 100.0
    weights = rng.uniform(0.5, 2.0, 400)
    block = block_group_moments([z], weights, labels, factor_name="g")
    parts = block.partition(4)
    assert sum(p.n_levels for p in parts) == block.n_levels
    assert not set(parts[0].keys) & set(parts[1].keys)
    # Merged in any order, the parts (one of them perhaps without levels,
    # holding the pooled co-moments) are the block.
    merged = GroupMoments.merge_all(parts[::-1])
    np.testing.assert_array_equal(merged.keys, block.keys)
    np.testing.assert_allclose(merged.within, block.within, rtol=1e-12)
    np.testing.assert_allclose(merged.means(), block.means(), rtol=1e-12)
    assert merged.log_weight_sum == pytest.approx(block.log_weight_sum)
    # A part without levels keeps its pooled co-moments in every merge.
    holder = block.subset(np.zeros(block.n_levels, dtype=bool))
    rest = replace(block, within=np.zeros_like(block.within), log_weight_sum=0.0)
    for merged in (
        holder.merge(rest),
        rest.merge(holder),
        GroupMoments.merge_all([holder, rest]),
        GroupMoments.merge_all([rest, holder]),
    ):
        np.testing.assert_allclose(merged.within, block.within, rtol=1e-15)
        assert merged.log_weight_sum == block.log_weight_sum
