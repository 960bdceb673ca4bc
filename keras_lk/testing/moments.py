"""A check that weights look drawn from an initialiser's distribution.

An initialisation test compares a sample's mean and standard deviation with the
distribution's. A fixed relative tolerance (say 10 %) is a different test at every
sample size: loose for a 3×3×64×64 kernel, a few-percent false alarm for a 7×1
depth-wise one. This check scales its tolerance with the sample instead, to `z`
standard errors of each statistic.
"""

import math

import numpy as np

# Kurtosis (the fourth standardised moment) of each distribution the check knows: it
# sets the standard error of the sample standard deviation.
KURTOSIS = {"normal": 3.0, "uniform": 1.8}


def moment_tolerances(size, std, distribution="normal", z=5.0):
    """The largest deviations of a sample's mean and standard deviation that `z`
    standard errors allow, for `size` i.i.d. draws of a distribution with `std`.

    The sample mean's standard error is std/√n; the sample standard deviation's is
    std·√((κ − 1)/(4n)), κ the distribution's kurtosis. At z = 5 a correct
    initialiser fails either bound about once in a million draws.
    """
    if distribution not in KURTOSIS:
        raise ValueError(f"`distribution` must be one of {sorted(KURTOSIS)}, "
                         f"received {distribution!r}")
    if not isinstance(size, int) or size < 2:
        raise ValueError(f"`size` must be an integer >= 2, received {size!r}")
    if not std > 0:
        raise ValueError(f"`std` must be positive, received {std!r}")
    mean_tol = z * std / math.sqrt(size)
    std_tol = z * std * math.sqrt((KURTOSIS[distribution] - 1.0) / (4.0 * size))
    return mean_tol, std_tol


def assert_sample_moments(values, std, mean=0.0, distribution="normal", z=5.0,
                          name="values"):
    """Asserts that `values` have the mean and standard deviation of i.i.d. draws of
    `distribution` (N(mean, std²) or a uniform with that mean and std), within `z`
    standard errors (see `moment_tolerances`). `name` labels the failure."""
    values = np.asarray(values, dtype=np.float64).ravel()
    mean_tol, std_tol = moment_tolerances(values.size, std, distribution, z)
    got_mean, got_std = values.mean(), values.std()
    assert abs(got_mean - mean) <= mean_tol, (
        f"{name}: mean {got_mean:.4g} is not {mean:.4g} ± {mean_tol:.3g} "
        f"({z:g} standard errors of {values.size} draws)")
    assert abs(got_std - std) <= std_tol, (
        f"{name}: standard deviation {got_std:.4g} is not {std:.4g} ± {std_tol:.3g} "
        f"({z:g} standard errors of {values.size} {distribution} draws)")
