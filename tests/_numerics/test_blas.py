import numpy as np
import pytest

from dask_linreg._numerics.blas import gemm_accumulate, syrk_accumulate


def operand(rng, rows, cols, layout):
    """A (rows, cols) float64 operand laid out as the BLAS may or may not
    read it directly."""
    base = rng.standard_normal((rows + 3, cols + 4))
    if layout == "C":
        return np.ascontiguousarray(base[:rows, :cols])
    if layout == "F":
        return np.asfortranarray(base[:rows, :cols])
    if layout == "C-slice":  # rows of a wider row-major array
        return base[1 : rows + 1, 2 : cols + 2]
    if layout == "F-slice":  # leading rows of a column-major scratch buffer
        return np.asfortranarray(base)[:rows, :cols]
    if layout == "strided":  # no unit stride: NumPy's product instead
        return rng.standard_normal((rows, 2 * cols))[:, ::2]
    if layout == "reversed":  # negative strides: NumPy's product instead
        return np.ascontiguousarray(base[:rows, :cols])[::-1, ::-1]
    raise AssertionError(layout)


LAYOUTS = ["C", "F", "C-slice", "F-slice", "strided", "reversed"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(50, 7), (1, 5), (9, 1), (300, 64)])
def test_syrk_accumulate_adds_the_upper_triangle(layout, shape, rng):
    a = operand(rng, *shape, layout)
    q = shape[1]
    start = rng.standard_normal((q, q))
    gram = start.copy()
    syrk_accumulate(gram, a)
    expected = start + a.T @ a
    upper = np.triu_indices(q)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(gram[upper], expected[upper], atol=1e-13 * scale)
    # The strictly lower part is the caller's: kept, or (NumPy's product)
    # accumulated too.
    lower = np.tril_indices(q, -1)
    assert np.allclose(gram[lower], start[lower]) or np.allclose(
        gram[lower], expected[lower], atol=1e-13 * scale
    )


def test_syrk_accumulate_into_a_block_of_a_larger_matrix(rng):
    a = operand(rng, 40, 6, "C")
    whole = np.zeros((8, 8))
    syrk_accumulate(whole[:6, :6], a)
    syrk_accumulate(whole[:6, :6], a)
    upper = np.triu_indices(6)
    np.testing.assert_allclose(whole[:6, :6][upper], (2 * a.T @ a)[upper], rtol=1e-13)
    # Nothing outside the block, nothing below its diagonal.
    assert not whole[6:].any() and not whole[:, 6:].any()
    assert not whole[:6, :6][np.tril_indices(6, -1)].any()


@pytest.mark.parametrize("layout_a", LAYOUTS)
@pytest.mark.parametrize("layout_b", ["C", "F", "C-slice", "strided"])
@pytest.mark.parametrize("shape", [(50, 7, 3), (1, 4, 2), (9, 1, 1), (200, 30, 40)])
def test_gemm_accumulate_adds_the_product(layout_a, layout_b, shape, rng):
    k, m, n = shape
    a = operand(rng, k, m, layout_a)
    b = operand(rng, k, n, layout_b)
    whole = rng.standard_normal((m + 2, n + 3))
    start = whole.copy()
    gemm_accumulate(whole[1 : m + 1, 2 : n + 2], a, b)
    expected = start.copy()
    expected[1 : m + 1, 2 : n + 2] += a.T @ b
    np.testing.assert_allclose(whole, expected, atol=1e-13 * np.abs(expected).max())


def test_accumulators_that_blas_cannot_write_get_numpys_product(rng):
    a = operand(rng, 30, 5, "C")
    gram = np.zeros((5, 10))[:, ::2]  # no unit column stride
    syrk_accumulate(gram, a)
    np.testing.assert_allclose(np.triu(gram), np.triu(a.T @ a), rtol=1e-13)
    product = np.asfortranarray(np.zeros((5, 3)))
    b = operand(rng, 30, 3, "F")
    gemm_accumulate(product, a, b)
    np.testing.assert_allclose(product, a.T @ b, rtol=1e-13)
