"""bf16 is chosen from what the hardware says, never assumed; what was used is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from interplay.models import precision


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n\nflags : other\n")
    assert precision.cpu_flags(str(info)) == frozenset({"fpu", "sse", "avx512f", "avx512_bf16", "amx_tile"})
    assert precision.cpu_flags(str(tmp_path / "missing")) == frozenset()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "avx512f"}, "float32"),  # bf16 would be emulated: slower than fp32
        ({"avx512f", "avx512_bf16"}, "bfloat16"),
        ({"amx_bf16", "amx_tile"}, "bfloat16"),
        (set(), "float32"),  # no /proc/cpuinfo (macOS): stay in fp32
    ],
)
def test_auto_picks_bf16_only_where_the_cpu_has_native_bf16(
    cpu_only: None, monkeypatch: pytest.MonkeyPatch, flags: set[str], expected: str
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.resolve("auto") == expected


def test_explicit_precision_is_kept(cpu_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert precision.resolve("float32") == "float32"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset())
    assert precision.resolve("bfloat16") == "bfloat16"


def test_simulation_rows_name_the_precision_they_ran_in(cpu_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from interplay.simulation import runtime

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert runtime.inference_precision("auto") == "bfloat16"
    assert runtime.inference_precision("float32") == "float32"
    model = torch.nn.Linear(2, 2)
    assert runtime.place_for_inference(model, "auto").weight.dtype == torch.bfloat16


def test_a_benchmark_names_the_cpu_it_ran_on(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512_bf16 sse\n")
    assert precision.cpu_description(str(cpuinfo)) == {"model": "AMD EPYC 9R14", "native_bf16_flags": ["avx512_bf16"]}
    assert precision.cpu_description(str(tmp_path / "missing")) == {"model": None, "native_bf16_flags": []}
