"""Accumulating BLAS products that release the GIL.

``np.matmul(a.T, a)`` runs a symmetric rank-k update (syrk) without the GIL
but always into a fresh result (``beta = 0``), mirrors it, and must then be
added to an accumulator: per piece of rows a ``q x q`` write, mirror and add
(measured 6-7% of the pass at 500 and 2,000 columns on one thread).  SciPy's
``scipy.linalg.blas.dsyrk`` accumulates (``beta = 1``) but holds the GIL, so
two tasks in threads of one process would take turns.  Here the same BLAS
routines are called through the C entry points SciPy exports for Cython
(``scipy.linalg.cython_blas``) by :mod:`ctypes`, which releases the GIL
around a foreign call.  Where those entry points cannot be found (another
SciPy build), the NumPy product and add are used: same result up to
rounding, a little slower.  Plain NumPy; no Dask.
"""

import ctypes

import numpy as np

__all__ = ["gemm_accumulate", "syrk_accumulate"]

_ITEM = np.dtype(np.float64).itemsize


def _cython_blas_function(name, n_args):
    """The C function ``name`` of ``scipy.linalg.cython_blas`` as a
    :mod:`ctypes` function of ``n_args`` pointers, or None."""
    try:
        from scipy.linalg import cython_blas

        capsule = cython_blas.__pyx_capi__[name]
        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype = ctypes.c_char_p
        api.PyCapsule_GetName.argtypes = [ctypes.py_object]
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
    except (ImportError, AttributeError, KeyError, ValueError):
        return None
    if not address:
        return None
    return ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n_args)(address)


# Fortran BLAS signatures, every argument by reference:
# dsyrk(uplo, trans, n, k, alpha, a, lda, beta, c, ldc)
# dgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
_DSYRK = _cython_blas_function("dsyrk", 10)
_DGEMM = _cython_blas_function("dgemm", 13)


def _int(value):
    return ctypes.byref(ctypes.c_int(value))


_ONE = ctypes.c_double(1.0)


def _fortran_layout(a):
    """``(trans, ld)`` to pass the C matrix ``a`` (rows x cols) to BLAS as
    ``op(A)`` of shape (cols, rows) -- i.e. ``a.T`` -- or None where neither
    stride is unit (BLAS cannot read it).

    A row-major ``a`` is, to Fortran, its transpose stored column-major
    (``"N"``, leading dimension its row stride); a column-major ``a`` is
    itself, to be transposed (``"T"``, leading dimension its column stride).
    """
    rows, cols = a.shape
    row_stride, col_stride = a.strides
    if col_stride == _ITEM or cols == 1:
        return b"N", max(1, row_stride // _ITEM, cols)
    if row_stride == _ITEM or rows == 1:
        return b"T", max(1, col_stride // _ITEM, rows)
    return None


def _accumulator_ld(c):
    """The leading dimension of the row-major accumulator ``c`` to BLAS (its
    row stride: ``c`` may be a block of a larger matrix), or None where its
    rows are not contiguous."""
    if not (c.dtype == np.float64 and c.flags.writeable and c.flags.aligned):
        return None
    rows, cols = c.shape
    row_stride, col_stride = c.strides
    if col_stride != _ITEM and cols > 1:
        return None
    if rows > 1 and row_stride < _ITEM * cols:
        return None
    return max(1, cols, row_stride // _ITEM if rows > 1 else cols)


def _operand_ok(a):
    return (
        a.dtype == np.float64 and a.flags.aligned and a.size > 0 and min(a.strides) > 0
    )


def syrk_accumulate(gram, a):
    """``gram += a.T @ a`` on the upper triangle only (the strictly lower
    part of ``gram`` is left as it was: mirror it once, at the end).

    Parameters
    ----------
    gram : ndarray of float64 of shape (q, q)
        The accumulator, updated in place: rows contiguous (a square block
        of a larger C-contiguous matrix is fine).
    a : ndarray of float64 of shape (k, q)
        Row-major or column-major (a slice of rows of either is fine).
    """
    layout = _fortran_layout(a) if _operand_ok(a) else None
    ldc = _accumulator_ld(gram)
    if _DSYRK is None or layout is None or ldc is None:
        gram += a.T @ a
        return
    trans, lda = layout
    k, q = a.shape
    # gram (C order) is, to Fortran, its transpose: its upper triangle is
    # the Fortran lower one.  op(A) = a.T, so trans "N" computes
    # A @ A.T = a.T @ a and "T" computes A.T @ A with A = a.
    _DSYRK(
        b"L",
        trans,
        _int(q),
        _int(k),
        ctypes.byref(_ONE),
        ctypes.c_void_p(a.ctypes.data),
        _int(lda),
        ctypes.byref(_ONE),
        ctypes.c_void_p(gram.ctypes.data),
        _int(ldc),
    )


def gemm_accumulate(product, a, b):
    """``product += a.T @ b``.

    Parameters
    ----------
    product : ndarray of float64 of shape (m, n)
        The accumulator, updated in place: rows contiguous (a block of a
        larger C-contiguous matrix is fine).
    a : ndarray of float64 of shape (k, m)
    b : ndarray of float64 of shape (k, n)
        Row-major or column-major each.
    """
    layouts = (
        (_fortran_layout(a), _fortran_layout(b))
        if _operand_ok(a) and _operand_ok(b)
        else (None, None)
    )
    ldc = _accumulator_ld(product)
    if _DGEMM is None or None in layouts or ldc is None:
        product += a.T @ b
        return
    (trans_a, lda), (trans_b, ldb) = layouts
    k, m = a.shape
    n = b.shape[1]
    # To Fortran, product is P = product.T (n x m) and P += b.T @ a, where
    # b.T is op(B) of b's layout and a is the transpose of op(A) = a.T.
    flip = {b"N": b"T", b"T": b"N"}
    _DGEMM(
        trans_b,
        flip[trans_a],
        _int(n),
        _int(m),
        _int(k),
        ctypes.byref(_ONE),
        ctypes.c_void_p(b.ctypes.data),
        _int(ldb),
        ctypes.c_void_p(a.ctypes.data),
        _int(lda),
        ctypes.byref(_ONE),
        ctypes.c_void_p(product.ctypes.data),
        _int(ldc),
    )
