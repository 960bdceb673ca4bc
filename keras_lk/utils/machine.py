"""What machine this is: the CPU's model and vector extensions, and the accelerator, so
that measurements and tuned choices name the hardware they hold for.

The extensions are those TensorFlow's oneDNN kernels may use: ``ONEDNN_MAX_CPU_ISA`` (or
its older name ``DNNL_MAX_CPU_ISA``) caps them, and an AVX-512 CPU capped at ``AVX2`` runs
the kernels an AVX2 CPU runs, so it counts as one here and its signature says so."""

from __future__ import annotations

import functools
import os
import platform

# The vector extensions that decide which kernels a CPU runs fast, in report order.
VECTOR_EXTENSIONS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                     "amx_bf16", "amx_tile", "neon", "asimd", "sve")

# oneDNN's ISA caps (its `dnnl_cpu_isa_t` names) → how many of the x86 extensions, in
# this order, each one leaves on (every cap keeps a prefix of the list).
_X86 = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16",
        "amx_tile")
_ONEDNN_ISA_CAPS = {
    "SSE41": 0, "AVX": 1, "AVX2": 3, "AVX2_VNNI": 3, "AVX2_VNNI_2": 3,
    "AVX512_CORE": 4, "AVX512_CORE_VNNI": 5,
    "AVX512_CORE_BF16": 6, "AVX10_1_512": 6, "AVX512_CORE_FP16": 6,
    "AVX10_1_512_AMX": 8, "AVX512_CORE_AMX": 8, "AVX10_1_512_AMX_FP16": 8,
    "AVX512_CORE_AMX_FP16": 8, "ALL": 8, "DEFAULT": 8,
}


# The environment variables that cap TensorFlow's thread pools (read at its start).
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def with_threads(env, threads, override=True) -> dict:
    """A copy of the environment `env` in which a TensorFlow process started with it runs
    `threads` threads in each pool (`THREAD_VARIABLES`); with ``override=False`` a
    variable already set in `env` keeps its value."""
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"`threads` must be an integer >= 1, received {threads!r}")
    env = dict(env)
    for variable in THREAD_VARIABLES:
        if override or variable not in env:
            env[variable] = str(threads)
    return env


def tensorflow_threads() -> int | None:
    """The intra-op thread count this process's environment caps TensorFlow at (None:
    unset or 0, TensorFlow's default of one per core)."""
    value = os.environ.get(THREAD_VARIABLES[0], "").strip()
    if not value.isdigit() and value:
        raise ValueError(f"{THREAD_VARIABLES[0]} must be a non-negative integer (0: "
                         f"TensorFlow's default), received {value!r}")
    return int(value) or None if value else None


def onednn_isa_cap() -> str | None:
    """The ISA cap oneDNN runs under (``ONEDNN_MAX_CPU_ISA``, else ``DNNL_MAX_CPU_ISA``),
    upper-cased, or None when neither is set or the cap leaves every extension on."""
    for variable in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        value = os.environ.get(variable, "").strip().upper()
        if value:
            if value not in _ONEDNN_ISA_CAPS:
                raise ValueError(
                    f"{variable}={os.environ[variable]!r} is not an ISA oneDNN knows; "
                    f"expected one of {sorted(_ONEDNN_ISA_CAPS)}.")
            return None if _ONEDNN_ISA_CAPS[value] == len(_X86) else value
    return None


def cpu_info() -> dict:
    """``{"model", "family", "model_number", "vector_extensions", "isa_cap", "cores"}`` of
    this CPU, read from ``/proc/cpuinfo`` (other systems: `platform.processor()` and no
    extensions); ``vector_extensions`` leaves out those above oneDNN's ISA cap."""
    info = dict(_cpu_info())
    cap = onednn_isa_cap()
    if cap is not None:
        allowed = _X86[:_ONEDNN_ISA_CAPS[cap]]
        info["vector_extensions"] = [name for name in info["vector_extensions"]
                                     if name not in _X86 or name in allowed]
    info["isa_cap"] = cap
    return info


@functools.lru_cache(maxsize=1)
def _cpu_info() -> dict:
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {
        "model": fields.get("model name") or platform.processor() or platform.machine(),
        "family": fields.get("cpu family"),
        "model_number": fields.get("model"),
        "vector_extensions": [name for name in VECTOR_EXTENSIONS if name in flags],
        "cores": os.cpu_count(),
    }


def cpu_signature() -> str:
    """One line that tells CPU types apart: model, family/model numbers and the widest
    vector extensions, e.g. ``"AMD EPYC (25/17) avx2 fma avx512f avx512_bf16"``."""
    info = cpu_info()
    numbers = (f" ({info['family']}/{info['model_number']})"
               if info["family"] is not None else "")
    extensions = " ".join(name for name in info["vector_extensions"] if name != "avx")
    cap = f" (oneDNN ISA capped at {info['isa_cap']})" if info["isa_cap"] else ""
    return f"{info['model']}{numbers} {extensions}{cap}".strip()


def has_cpu_extension(name: str) -> bool:
    """Whether this CPU has the vector extension `name` (one of `VECTOR_EXTENSIONS`) and
    oneDNN's ISA cap leaves it on."""
    if name not in VECTOR_EXTENSIONS:
        raise ValueError(f"`name` must be one of {VECTOR_EXTENSIONS}, received {name!r}.")
    return name in cpu_info()["vector_extensions"]


def matmul_peak_gflops(repeats=5, size=2048):
    """This machine's float32 matrix-product rate in GFLOP/s (median of `repeats` runs of
    a `size`² product, compiled by the Keras backend: ``tf.function`` or ``jax.jit``), the
    yardstick of the benchmarks' FLOP rates."""
    import time

    import keras
    import numpy as np

    a = keras.ops.convert_to_tensor(
        np.random.default_rng(0).standard_normal((size, size)).astype("float32"))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        product = tf.function(lambda: tf.matmul(a, a))
    else:
        import jax

        jitted = jax.jit(lambda a: a @ a)
        product = lambda: jitted(a)
    times = []
    for i in range(repeats + 2):  # two warm-up runs
        start = time.perf_counter()
        keras.ops.convert_to_numpy(product())
        if i >= 2:
            times.append(time.perf_counter() - start)
    return 2 * size**3 / float(np.median(times)) / 1e9
