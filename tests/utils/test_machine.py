"""The machine description: oneDNN's ISA cap hides the extensions its kernels cannot use,
so a capped AVX-512 CPU is told apart from an uncapped one and chooses as an AVX2 CPU."""

import pytest

from keras_lk.utils import machine

ZEN4 = {"model": "AMD EPYC", "family": "25", "model_number": "17", "cores": 2,
        "vector_extensions": ["avx", "avx2", "fma", "avx512f", "avx512_vnni",
                              "avx512_bf16"]}


@pytest.fixture
def zen4(monkeypatch):
    monkeypatch.setattr(machine, "_cpu_info", lambda: ZEN4)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    return monkeypatch


def test_uncapped_cpu_keeps_every_extension(zen4):
    assert machine.cpu_info()["isa_cap"] is None
    assert machine.has_cpu_extension("avx512_bf16")
    assert machine.cpu_signature() == "AMD EPYC (25/17) avx2 fma avx512f avx512_vnni avx512_bf16"


def test_avx2_cap_hides_avx512_and_names_the_cap(zen4):
    zen4.setenv("ONEDNN_MAX_CPU_ISA", "avx2")
    assert machine.cpu_info()["vector_extensions"] == ["avx", "avx2", "fma"]
    assert not machine.has_cpu_extension("avx512f")
    assert machine.has_cpu_extension("fma")
    assert machine.cpu_signature() == "AMD EPYC (25/17) avx2 fma (oneDNN ISA capped at AVX2)"
    assert ZEN4["vector_extensions"][-1] == "avx512_bf16"  # the raw record is untouched


def test_older_variable_name_and_caps_that_leave_everything_on(zen4):
    zen4.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE")
    assert machine.cpu_info()["vector_extensions"][-1] == "avx512f"
    zen4.setenv("ONEDNN_MAX_CPU_ISA", "ALL")  # the newer name wins and caps nothing
    assert machine.cpu_info()["isa_cap"] is None
    assert machine.has_cpu_extension("avx512_bf16")


def test_unknown_cap_is_an_error_naming_the_variable(zen4):
    zen4.setenv("ONEDNN_MAX_CPU_ISA", "AVX3")
    with pytest.raises(ValueError, match=r"ONEDNN_MAX_CPU_ISA='AVX3'.*AVX2"):
        machine.cpu_info()


def test_with_threads_sets_both_pools_and_keeps_a_users_choice_when_asked():
    env = machine.with_threads({"PATH": "/bin"}, 2)
    assert env == {"PATH": "/bin", "TF_NUM_INTRAOP_THREADS": "2",
                   "TF_NUM_INTEROP_THREADS": "2"}
    users = {"TF_NUM_INTRAOP_THREADS": "4"}
    assert machine.with_threads(users, 1, override=False) == {
        "TF_NUM_INTRAOP_THREADS": "4", "TF_NUM_INTEROP_THREADS": "1"}
    assert users == {"TF_NUM_INTRAOP_THREADS": "4"}  # a copy: the given one is unchanged
    assert machine.with_threads(users, 1)["TF_NUM_INTRAOP_THREADS"] == "1"
    with pytest.raises(ValueError, match="`threads` must be an integer >= 1, received 0"):
        machine.with_threads({}, 0)


def test_tensorflow_threads_reads_the_intra_op_cap(monkeypatch):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    assert machine.tensorflow_threads() is None
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    assert machine.tensorflow_threads() == 1
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "two")
    with pytest.raises(ValueError, match="TF_NUM_INTRAOP_THREADS must be a non-negative "
                                         r"integer \(0: TensorFlow's default\), received 'two'"):
        machine.tensorflow_threads()
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "0")
    assert machine.tensorflow_threads() is None
