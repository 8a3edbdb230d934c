"""Seeded random cases of every operation and option against the float64
numpy reference. SEPCONV_PY_CASES sets the count per operation (default 300)."""
import os

import numpy as np
import pytest

import cases
import reference

COUNT = int(os.environ.get("SEPCONV_PY_CASES", "300"))


@pytest.mark.parametrize("op", ["depthwise", "pointwise", "separable"])
def test_random_against_reference(op):
    rng = np.random.default_rng(20261123 + len(op))
    for i in range(COUNT):
        case = cases.random_case(rng, op)
        y, ref = case.run(), case.reference()
        assert y.shape == ref.shape, f"case {i}: {case}"
        err = np.abs(y - ref).max(initial=0)
        assert err <= reference.tolerance(ref, case.reduction()), f"case {i}: error {err}: {case}"
