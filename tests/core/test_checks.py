"""Static shape/dtype errors at trace time, and the opt-in value checks.

Static checks must raise before anything runs, eagerly and under ``jax.jit``,
with a message that starts with ``jaxdiv.<function>:`` and names the shapes.
Value checks must add nothing to the program when off (the jaxpr equals that
of a build whose value-check functions are no-ops), and raise under
``chex.chexify(jax.jit(f), async_check=False)`` when on.
"""

import functools
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import jaxdiv
from jaxdiv._core import value_checks as _checks

PROB_TWO = [
    jaxdiv.cross_entropy,
    jaxdiv.kl_divergence,
    jaxdiv.js_divergence,
    jaxdiv.js_distance,
]
LOGITS_TWO = [
    jaxdiv.cross_entropy_from_logits,
    jaxdiv.kl_divergence_from_logits,
    jaxdiv.js_divergence_from_logits,
    jaxdiv.js_distance_from_logits,
]
TWO = PROB_TWO + LOGITS_TWO
ONE = [jaxdiv.entropy, jaxdiv.entropy_from_logits]
CATEGORICAL = ONE + TWO
BINARY_ONE = [jaxdiv.binary_entropy, jaxdiv.binary_entropy_from_logits]
BINARY_TWO = [
    jaxdiv.binary_cross_entropy,
    jaxdiv.binary_kl_divergence,
    jaxdiv.binary_cross_entropy_from_logits,
    jaxdiv.binary_kl_divergence_from_logits,
]
BINARY = BINARY_ONE + BINARY_TWO
ALL = CATEGORICAL + BINARY


def ids(fs):
    return [f.__name__ for f in fs]


def n_args(f):
    return 1 if f in ONE or f in BINARY_ONE else 2


def shape_text(shape):
    return re.escape(str(tuple(shape)))


def checked(f):
    return chex.chexify(jax.jit(f), async_check=False)


# --------------------------------------------------------------------------
# static shape and dtype checks


BAD_PAIRS = [
    ((3, 1), (3, 5)),  # (B, 1) against (B, C): never broadcast silently
    ((4, 1, 5), (4, 5)),
    ((4, 5), (4, 6)),  # mismatched class counts
    ((4, 5), (6,)),  # a single reference with the wrong class count
    ((2, 4, 5), (3, 4, 5)),
    ((2, 5), (1, 5)),
]


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("shapes", BAD_PAIRS, ids=str)
@pytest.mark.parametrize("f", TWO, ids=ids(TWO))
def test_bad_shapes_raise_naming_function_and_shapes(f, shapes, jit):
    a, b = (jnp.full(s, 0.2) for s in shapes)
    g = jax.jit(f) if jit else f
    for x, y in ((a, b), (b, a)):
        pattern = (
            rf"^jaxdiv\.{f.__name__}: .*{shape_text(x.shape)}.*"
            rf"{shape_text(y.shape)}.*axis -1"
        )
        with pytest.raises(ValueError, match=pattern):
            g(x, y)


@pytest.mark.parametrize("f", TWO, ids=ids(TWO))
def test_a_single_reference_is_accepted(f):
    shape = jax.eval_shape(f, jnp.full((3, 4, 5), 0.2), jnp.full((5,), 0.2)).shape
    assert shape == (3, 4)
    g = functools.partial(f, axis=(-2, -1))
    assert jax.eval_shape(g, jnp.full((3, 4, 5), 0.2), jnp.full((4, 5), 0.2)).shape == (
        3,
    )


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("f", ALL, ids=ids(ALL))
def test_integer_input_raises_type_error(f, jit):
    g = jax.jit(f) if jit else f
    ints, floats = jnp.array([[1, 0], [0, 1]]), jnp.array([[1.0, 0.0], [0.0, 1.0]])
    inputs = [(ints,)] if n_args(f) == 1 else [(ints, floats), (floats, ints)]
    for args in inputs:
        with pytest.raises(TypeError, match=rf"^jaxdiv\.{f.__name__}: .*int32"):
            g(*args)


@pytest.mark.parametrize("f", ALL, ids=ids(ALL))
def test_where_must_broadcast_and_be_boolean(f):
    x = jnp.full((4, 5), 0.2)
    args = (x,) * n_args(f)
    bad = jnp.ones((4, 3), bool)
    pattern = rf"^jaxdiv\.{f.__name__}: where .*\(4, 3\).*\(4, 5\)"
    with pytest.raises(ValueError, match=pattern):
        f(*args, where=bad)
    with pytest.raises(ValueError, match=pattern):
        jax.jit(functools.partial(f, where=bad))(*args)
    with pytest.raises(TypeError, match=rf"^jaxdiv\.{f.__name__}: where .*bool"):
        f(*args, where=jnp.ones((4, 5)))


@pytest.mark.parametrize("f", CATEGORICAL, ids=ids(CATEGORICAL))
def test_bad_axes_and_scalars(f):
    x = jnp.full((2, 5), 0.2)
    args = (x,) * n_args(f)
    with pytest.raises(ValueError, match=rf"^jaxdiv\.{f.__name__}: axis 2 .*bounds"):
        f(*args, axis=2)
    with pytest.raises(ValueError, match=rf"^jaxdiv\.{f.__name__}: axis .*repeats"):
        f(*args, axis=(1, -1))
    with pytest.raises(ValueError, match=rf"^jaxdiv\.{f.__name__}: "):
        f(*(jnp.array(0.5),) * n_args(f))


@pytest.mark.parametrize(
    "f",
    [jaxdiv.js_divergence, jaxdiv.js_divergence_from_logits],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_weight_outside_unit_interval_raises(f, weight):
    x = jnp.full((5,), 0.2)
    with pytest.raises(ValueError, match=r"^jaxdiv\.js_divergence.*weight"):
        f(x, x, weight=weight)


def test_binary_axis_out_of_bounds():
    with pytest.raises(ValueError, match=r"^jaxdiv\.binary_entropy: axis 3"):
        jaxdiv.binary_entropy(jnp.full((2, 3), 0.5), axis=3)


# --------------------------------------------------------------------------
# opt-in value checks


def _valid_inputs(f):
    p = jnp.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])
    if f in BINARY:
        return (jnp.array([0.0, 0.3, 1.0]),) * n_args(f)
    if "logits" in f.__name__:
        return (jnp.log(p),) * n_args(f)
    return (p,) * n_args(f)


PROB_FORMS = [jaxdiv.entropy] + PROB_TWO


def checked_with_mask(f):
    """One compilation for every mask: ``where`` is a traced argument."""
    return checked(lambda args, where: f(*args, where=where))


@pytest.mark.parametrize("f", PROB_FORMS, ids=ids(PROB_FORMS))
def test_value_checks_on_probabilities(f):
    cf, cfw = checked(f), checked_with_mask(f)
    valid = _valid_inputs(f)
    bad = {
        "sum to 1": jnp.array([[0.2, 0.3, 0.6], [0.0, 1.0, 0.0]]),
        "negative": jnp.array([[0.6, -0.1, 0.5], [0.0, 1.0, 0.0]]),
        "non-finite": jnp.array([[0.2, 0.3, 0.5], [jnp.nan, 1.0, 0.0]]),
    }
    with jaxdiv.value_checks():
        np.testing.assert_array_equal(cf(*valid), f(*valid))  # valid ones pass
        for argnum in range(n_args(f)):
            for what, x in bad.items():
                args = list(valid)
                args[argnum] = x
                with pytest.raises(
                    checkify.JaxRuntimeError,
                    match=rf"^jaxdiv\.{f.__name__}: {'pq'[argnum]} .*{what}",
                ):
                    cf(*args)
            # a masked entry may hold anything; the kept row still sums to 1
            args = list(valid)
            args[argnum] = jnp.array([[0.2, 0.3, 0.5], [jnp.nan, 1.0, -3.0]])
            cfw(args, jnp.array([[True, True, True], [False, True, False]]))
            # a fully masked (padding) row is not checked for normalisation
            args[argnum] = jnp.array([[0.2, 0.3, 0.5], [0.0, 0.0, 0.0]])
            cfw(args, jnp.array([[True, True, True], [False, False, False]]))


def test_value_checks_tolerance():
    p = jnp.array([0.2, 0.3, 0.5 + 1e-3])
    with jaxdiv.value_checks(atol=1e-2):
        checked(jaxdiv.entropy)(p)
    with jaxdiv.value_checks(atol=1e-5):
        with pytest.raises(checkify.JaxRuntimeError, match="sum to 1"):
            checked(jaxdiv.entropy)(p)
    with pytest.raises(ValueError, match=r"^jaxdiv\.value_checks: atol"):
        with jaxdiv.value_checks(atol=-1.0):
            pass


LOGIT_FORMS = [jaxdiv.entropy_from_logits] + LOGITS_TWO


@pytest.mark.parametrize("f", LOGIT_FORMS, ids=ids(LOGIT_FORMS))
def test_value_checks_on_logits(f):
    cf, cfw = checked(f), checked_with_mask(f)
    good = jnp.array([[0.0, -jnp.inf, 1.0], [2.0, 1e30, -3.0]])  # -inf is allowed
    where = jnp.ones((2, 3), bool).at[1, 0].set(False)
    with jaxdiv.value_checks():
        cf(*(good,) * n_args(f))
        for bad_value in (jnp.nan, jnp.inf):
            bad = good.at[1, 0].set(bad_value)
            for argnum in range(n_args(f)):
                args = [good] * n_args(f)
                args[argnum] = bad
                with pytest.raises(
                    checkify.JaxRuntimeError, match=rf"^jaxdiv\.{f.__name__}: .*nan"
                ):
                    cf(*args)
                cfw(args, where)  # masked: no complaint


@pytest.mark.parametrize("f", BINARY, ids=ids(BINARY))
def test_value_checks_on_binary(f):
    cf, cfw = checked(f), checked_with_mask(f)
    valid = _valid_inputs(f)
    with jaxdiv.value_checks():
        cf(*valid)
        if "logits" in f.__name__:  # +-inf logits are hard labels: allowed
            cf(*(jnp.array([-jnp.inf, 0.0, jnp.inf]),) * n_args(f))
            bad, match = jnp.array([0.0, jnp.nan, 1.0]), "nan"
        else:
            bad, match = jnp.array([0.0, 1.5, -0.5]), r"\[0, 1\]"
        for argnum in range(n_args(f)):
            args = list(valid)
            args[argnum] = bad
            with pytest.raises(
                checkify.JaxRuntimeError, match=rf"^jaxdiv\.{f.__name__}: .*{match}"
            ):
                cf(*args)
            cfw(args, jnp.array([True, False, False]))


def test_checks_inside_then_outside_the_block():
    """One jitted function: checked inside the block, unchecked outside."""
    jf = jax.jit(jaxdiv.kl_divergence)
    cf = chex.chexify(jf, async_check=False)
    bad = jnp.array([0.7, 0.7])
    q = jnp.array([0.5, 0.5])
    expected = float(np.sum(0.7 * np.log(0.7 / 0.5) * 2))
    with jaxdiv.value_checks():
        with pytest.raises(checkify.JaxRuntimeError, match="sum to 1"):
            cf(bad, q)
    np.testing.assert_allclose(jf(bad, q), expected, rtol=1e-6)
    np.testing.assert_allclose(cf(bad, q), expected, rtol=1e-6)  # no check now
    with jaxdiv.value_checks():  # and back inside: the checked trace again
        with pytest.raises(checkify.JaxRuntimeError, match="sum to 1"):
            cf(bad, q)


def test_checks_outside_then_inside_the_block():
    """The unchecked compilation is not reused inside the block."""
    jf = jax.jit(jaxdiv.js_divergence_from_logits)
    cf = chex.chexify(jf, async_check=False)
    bad = jnp.array([0.0, jnp.nan])
    good = jnp.array([0.0, 1.0])
    assert np.isnan(cf(bad, good))
    assert np.isnan(jf(bad, good))
    with jaxdiv.value_checks():
        with pytest.raises(checkify.JaxRuntimeError, match="nan"):
            cf(bad, good)
        assert np.isfinite(cf(good, good))
    assert np.isnan(cf(bad, good))


# --------------------------------------------------------------------------
# zero cost when off


VALUE_CHECKS = [
    "probabilities",
    "unit_interval",
    "no_nan_or_posinf",
    "label_range",
    "positive",
    "check",
]


def _jaxpr(f, args, **kwargs):
    return str(jax.make_jaxpr(functools.partial(f, **kwargs))(*args))


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("f", ALL, ids=ids(ALL))
def test_off_adds_nothing_to_the_jaxpr(f, masked, monkeypatch):
    args = _valid_inputs(f)
    kwargs = {}
    if masked:
        kwargs["where"] = jnp.ones(args[0].shape, bool)
    off = _jaxpr(f, args, **kwargs)
    for name in VALUE_CHECKS:
        monkeypatch.setattr(_checks, name, lambda *a, **k: None)
    without = _jaxpr(f, args, **kwargs)
    assert off == without


@pytest.mark.parametrize("f", ALL, ids=ids(ALL))
def test_on_changes_the_jaxpr_under_checkify(f):
    args = _valid_inputs(f)
    g = checkify.checkify(f)
    off = jax.make_jaxpr(g)(*args)
    with jaxdiv.value_checks():
        on = jax.make_jaxpr(g)(*args)
    assert str(on) != str(off)
    assert len(on.eqns) > len(off.eqns)
    # and the block is really off again afterwards
    assert str(jax.make_jaxpr(g)(*args)) == str(off)
