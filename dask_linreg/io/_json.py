"""The JSON of model files: reading with caps, parsing, arrays and numbers.

Nothing here knows an estimator.  The text is checked before it is parsed:
at most :data:`MAX_FILE_BYTES`, UTF-8, and nested at most :data:`MAX_DEPTH`
levels (found by a scan that does not recurse, so a deep file never reaches
the recursive JSON parser); the parser refuses repeated keys, NaN and
Infinity, and integers longer than Python converts.
"""

import json
import math
import numbers
import os
import re

import numpy as np

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "ModelFileError",
    "Unstorable",
    "check_keys",
    "decode_array",
    "describe",
    "dumps_document",
    "encode_array",
    "fail",
    "is_int",
    "nests_deeper",
    "parse",
    "read_text",
    "shape_of",
]

#: Largest model file :func:`~dask_linreg.load` reads, in bytes.  A model
#: with 4,096 features and its statistics (the widest the docs measure)
#: takes about 0.35 GB.
MAX_FILE_BYTES = 1 << 30

#: Deepest nesting of JSON arrays and objects accepted.  The format itself
#: needs 7 (``cv`` given as a list of ``(train, test)`` index pairs); the
#: rest is room for ``metadata``.
MAX_DEPTH = 32

#: Longest integer accepted (Python's own default limit); exact statistics
#: need at most about 1,300 digits.
MAX_INT_DIGITS = 4300


class ModelFileError(ValueError):
    """A model file is not a valid dask-linreg model; the message says why."""


class Unstorable(Exception):
    """A value that JSON cannot hold; the message says what it is."""


def fail(path, problem):
    """Raise the :class:`ModelFileError` of ``path`` and ``problem``."""
    raise ModelFileError(f"{path} is not a valid dask-linreg model file: {problem}.")


# ---------------------------------------------------------------------------
# Reading and parsing


def read_text(path):
    """The file's text, checked for size and encoding; raises ModelFileError."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_FILE_BYTES:
                fail(
                    path,
                    f"it has {size:,} bytes, more than the {MAX_FILE_BYTES:,} "
                    "a model file may have",
                )
            data = file.read(MAX_FILE_BYTES + 1)  # also for pipes and devices
    except OSError as error:
        raise ModelFileError(f"Cannot read model file {path}: {error}.") from None
    if len(data) > MAX_FILE_BYTES:
        fail(
            path, f"it has more than the {MAX_FILE_BYTES:,} bytes a model file may have"
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        fail(
            path,
            "it is a pickle, which load never reads; model files are JSON "
            "written by save()",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        fail(
            path,
            f"it is not UTF-8 text (byte {data[error.start]:#04x} at offset "
            f"{error.start}); model files are JSON written by save()",
        )
    if nests_deeper(data, MAX_DEPTH):
        fail(path, f"it nests arrays and objects more than {MAX_DEPTH} levels deep")
    return text


def parse(text, path):
    """The JSON value of ``text``: no repeated keys, NaN, Infinity or huge
    integers; raises ModelFileError."""

    def pairs(items):
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            duplicate = next(k for k in keys if keys.count(k) > 1)
            fail(path, f"the key {duplicate!r} appears twice in one object")
        return dict(items)

    def integer(literal):
        if len(literal) > MAX_INT_DIGITS:
            fail(path, f"it holds an integer of {len(literal)} digits")
        return int(literal)

    try:
        return json.loads(
            text,
            object_pairs_hook=pairs,
            parse_int=integer,
            parse_constant=lambda c: fail(path, f"it contains {c}"),
        )
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as error:
        # JSONDecodeError, or an integer of more digits than Python converts.
        fail(path, f"it is not JSON (or is truncated): {error}")


def nests_deeper(data, limit):
    """Whether JSON text nests arrays and objects more than ``limit`` deep.

    A scan at C speed, without recursion: escaped backslashes and quotes are
    dropped, every byte but quotes and brackets deleted, then the depth of
    the brackets outside strings is summed chunk by chunk (linear time and
    bounded memory, however many quotes or brackets the text has).
    """
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    tokens = text.translate(None, _NOT_TOKENS)
    if tokens.count(b"[") + tokens.count(b"{") <= limit:
        return False
    tokens = np.frombuffer(tokens, dtype=np.uint8)
    inside = depth = 0
    for start in range(0, tokens.size, _CHUNK):
        chunk = tokens[start : start + _CHUNK]
        # 1 from an opening quote to its closing one: inside a string.
        parity = np.bitwise_xor.accumulate((chunk == ord('"')).view(np.uint8))
        parity ^= inside
        steps = ((chunk == ord("[")) | (chunk == ord("{"))).view(np.int8) - (
            (chunk == ord("]")) | (chunk == ord("}"))
        ).view(np.int8)
        steps[parity.view(bool)] = 0
        levels = np.cumsum(steps, dtype=np.int32)
        if depth + int(levels.max()) > limit:
            return True
        inside, depth = int(parity[-1]), depth + int(levels[-1])
    return False


_NOT_TOKENS = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_CHUNK = 1 << 20


def dumps_document(document):
    """The text of a model file: one top-level key a line.

    Each value by json's C encoder (``indent`` would take the pure-Python
    one, 10 times slower on the statistics).
    """
    return (
        "{\n"
        + ",\n".join(
            f" {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
            for key, value in document.items()
        )
        + "\n}\n"
    )


# ---------------------------------------------------------------------------
# Shapes, keys and typed arrays


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_keys(value, keys, where):
    """Raise ValueError unless ``value`` is an object of exactly ``keys``."""
    if not isinstance(value, dict) or set(value) != set(keys):
        raise ValueError(
            f"{where} must be an object with the keys {', '.join(map(repr, keys))}"
        )


def shape_of(dims, values, where):
    """The shape ``dims`` of a stored array of ``values``, checked."""
    if not (isinstance(dims, list) and all(is_int(d) and d >= 0 for d in dims)):
        raise ValueError(f"{where} has an invalid shape {dims!r}")
    if not isinstance(values, list):
        raise ValueError(f"{where} values must be a list")
    if len(values) != math.prod(dims):
        raise ValueError(
            f"{where} has {len(values)} values but its shape {dims} needs "
            f"{math.prod(dims)}"
        )
    return tuple(dims)


def describe(value):
    """A short description of a value, for messages."""
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__qualname__}"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        known = all(isinstance(d, numbers.Number) for d in shape)
        return f"a {kind} of shape {shape}" if known else f"a {kind}"
    text = repr(value)
    return f"{text[:200]}..." if len(text) > 200 else text


#: dtypes of stored arrays of parameters and labels (numpy's ``dtype.str``;
#: also "<U<width>" for strings and "object" for object arrays of strings).
DTYPES = {
    np.dtype(t).str: t
    for t in (
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.float16,
        np.float32,
        np.float64,
    )
}
_STR_DTYPE = re.compile(r"<U([1-9][0-9]{0,5})")


def encode_array(array):
    """A NumPy array with its dtype as JSON; raises Unstorable."""
    if array.dtype.str in DTYPES:
        dtype = array.dtype.str
        if dtype[1] in "f" and not np.isfinite(array).all():
            raise Unstorable(f"{describe(array)} with non-finite values")
    elif array.dtype.kind == "U":
        dtype = array.dtype.str
    elif array.dtype.kind == "O" and all(isinstance(v, str) for v in array.flat):
        dtype = "object"
    else:
        raise Unstorable(f"{describe(array)} of dtype {array.dtype}")
    return {
        "type": "ndarray",
        "dtype": dtype,
        "shape": list(array.shape),
        "values": array.ravel().tolist(),
    }


def decode_array(value, where):
    """Inverse of :func:`encode_array`; raises ValueError."""
    check_keys(value, ("type", "dtype", "shape", "values"), where)
    dtype, values = value["dtype"], value["values"]
    shape = shape_of(value["shape"], values, where)
    width = _STR_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    if dtype == "object" or width:
        if not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where} of dtype {dtype} must hold strings")
        if width and not all(len(v) <= int(width[1]) for v in values):
            raise ValueError(f"{where} holds strings longer than its dtype {dtype}")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        if width:
            array = array.astype(dtype)
        return array.reshape(shape)
    if dtype not in DTYPES:
        raise ValueError(f"{where} has an unknown dtype {dtype!r}")
    kind = np.dtype(dtype).kind
    allowed = {"b": {bool}, "f": {int, float}}.get(kind, {int})
    if not set(map(type, values)) <= allowed:
        raise ValueError(f"{where} values do not fit its dtype {dtype}")
    try:
        with np.errstate(over="raise"):
            array = np.array(values, dtype=DTYPES[dtype])
    except (OverflowError, FloatingPointError):
        raise ValueError(f"{where} values are out of the range of {dtype}") from None
    if kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{where} values are out of the range of {dtype}")
    return array.reshape(shape)
