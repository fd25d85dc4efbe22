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
    assert {"*.yaml", "non_ai/*.txt", "*.txt"} <= set(data["detector.signatures_data"])
    assert {"queries/*.sql", "default_config.toml"} <= set(data["detector"])
