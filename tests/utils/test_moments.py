"""assert_sample_moments: tolerances that scale with the sample, so an initialisation
test neither false-alarms on small kernels nor waves through wrong scales."""

import math

import numpy as np
import pytest

from keras_lk.testing import assert_sample_moments, moment_tolerances


def test_tolerances_are_z_standard_errors():
    mean_tol, std_tol = moment_tolerances(400, 2.0, z=5.0)
    assert mean_tol == pytest.approx(5 * 2.0 / 20)
    assert std_tol == pytest.approx(5 * 2.0 * math.sqrt(2.0 / 1600))
    _, uniform_tol = moment_tolerances(400, 2.0, "uniform", z=5.0)
    assert uniform_tol == pytest.approx(5 * 2.0 * math.sqrt(0.8 / 1600))


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_correct_draws_pass_at_every_size_and_false_alarms_are_rare(distribution):
    rng = np.random.default_rng(0)
    std = 0.3
    for size in (7, 448, 100_000):
        if distribution == "normal":
            draws = rng.normal(0.0, std, (200, size))
        else:
            bound = std * math.sqrt(3.0)
            draws = rng.uniform(-bound, bound, (200, size))
        # At z = 2 about 5 % of correct samples fail one bound, at z = 5 none of 200.
        failures = {z: 0 for z in (2.0, 5.0)}
        for sample in draws:
            for z in failures:
                try:
                    assert_sample_moments(sample, std, distribution=distribution, z=z)
                except AssertionError:
                    failures[z] += 1
        assert failures[5.0] == 0
        assert 2 <= failures[2.0] <= 40


def test_wrong_scale_or_mean_fails_with_a_message_naming_the_weights():
    rng = np.random.default_rng(1)
    kernel = rng.normal(0.0, math.sqrt(2.0 / 7), (7, 1, 64, 1))  # 448 draws
    assert_sample_moments(kernel, math.sqrt(2.0 / 7), name="strip")
    with pytest.raises(AssertionError, match=r"strip: standard deviation .* 448 normal"):
        assert_sample_moments(kernel, math.sqrt(2.0 / 7) / math.sqrt(2.0), name="strip")
    with pytest.raises(AssertionError, match=r"strip: mean"):
        assert_sample_moments(kernel + 0.2, math.sqrt(2.0 / 7), name="strip")


@pytest.mark.parametrize("kwargs,match", [
    ({"distribution": "laplace"}, r"`distribution` must be one of \['normal', 'uniform'\]"),
    ({"std": 0.0}, "`std` must be positive, received 0.0"),
    ({"size": 1}, "`size` must be an integer >= 2, received 1"),
])
def test_bad_arguments_name_what_was_expected(kwargs, match):
    arguments = {"size": 100, "std": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        moment_tolerances(**arguments)
