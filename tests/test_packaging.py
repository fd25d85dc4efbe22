"""`pip install .` must carry everything the product reads at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_python_package_is_listed_for_installation() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("detector", "dashboards")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["detector.signatures_data"] == "signatures"
    data = config["package-data"]
    assert {"*.yaml", "*.txt"} <= set(data["detector.signatures_data"])
    assert "*.txt" in data["detector.signatures_data.non_ai"]
    assert "*.sql" in data["detector.queries"]
    assert "default_config.toml" in data["detector"]


def test_every_data_directory_is_a_listed_package() -> None:
    """A directory of data only is still a package to setuptools, which warns about one it is not told of."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    data_dirs = {"detector." + d.name for d in (ROOT / "detector").iterdir()
                 if d.is_dir() and not d.name.startswith((".", "_")) and not (d / "__init__.py").exists()}
    data_dirs |= {"detector.signatures_data." + d.name for d in (ROOT / "signatures").iterdir() if d.is_dir()}
    assert data_dirs <= listed, f"add to [tool.setuptools] packages: {sorted(data_dirs - listed)}"
