from pathlib import Path

import pytest

from interplay.config.params import Params, ParamsError, load_params


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["params.yaml", "profiles/smoke.yaml", "profiles/gpu.yaml"])
def test_shipped_params_files_are_valid(repo_root: Path, name: str) -> None:
    if not (repo_root / name).exists():
        pytest.skip(f"{name} is not part of this checkout")
    assert isinstance(load_params(repo_root / name), Params)


def test_params_yaml_spells_out_every_default(repo_root: Path) -> None:
    """DVC tracks keys by name in params.yaml: a key left to its default would be invisible to it."""
    import yaml

    raw = yaml.safe_load((repo_root / "params.yaml").read_text())

    def keys(tree: dict, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in tree.items():
            out.add(prefix + key)
            if isinstance(value, dict) and key != "extra_urls":
                out |= keys(value, prefix + key + ".")
        return out

    model_keys = keys(Params().model_dump(mode="json"))
    assert model_keys <= keys(raw), sorted(model_keys - keys(raw))


def test_unknown_key_names_the_key_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "preprocess:\n  on_bad_recrod: skip\n")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert "preprocess.on_bad_recrod: unknown key" in str(err.value)
    assert str(path) in str(err.value)


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "preprocess:\n  on_bad_record: ignore\n  splits: {validation: 1.5}\n")
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert "preprocess.on_bad_record" in message
    assert "preprocess.splits.validation" in message


def test_missing_file_and_bad_yaml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="no such params file"):
        load_params(tmp_path / "absent.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(_write(tmp_path, "seed: [1,\n"))


def test_the_ungrounded_profile_is_the_defaults_without_grounding() -> None:
    from pathlib import Path

    from interplay.config.params import load_params

    root = Path(__file__).resolve().parents[2]
    defaults = load_params(root / "params.yaml").model_dump()
    ungrounded = load_params(root / "profiles" / "ungrounded.yaml").model_dump()
    assert ungrounded["simulation"].pop("grounding") == "none"
    defaults["simulation"].pop("grounding")
    assert ungrounded == defaults
