"""`shadow-ai dashboard`: run the Streamlit app in `dashboards/` on this machine, over one data directory.

The app reads the data directory from $SHADOW_AI_HOME (set here, and it runs in that directory, so its
`.streamlit/secrets.toml` configures the optional login), opens DuckDB read-only and writes only
analysts' labels. Streamlit is started bound to loopback, headless and with its usage statistics
off: nothing leaves the machine unless the operator binds it to another address on purpose.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from detector.config import HOME_ENV, Settings
from detector.errors import ConfigError

APP_NAME = "streamlit_app.py"
DEFAULT_PORT = 8501
DEFAULT_ADDRESS = "127.0.0.1"


def app_path() -> Path:
    """`dashboards/streamlit_app.py`: from an installed `dashboards` package, else beside `detector/` (a
    source checkout or an editable install)."""
    candidates = []
    spec = importlib.util.find_spec("dashboards")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(location) / APP_NAME for location in spec.submodule_search_locations]
    candidates.append(Path(__file__).resolve().parent.parent / "dashboards" / APP_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError("the dashboard app is not installed (dashboards/streamlit_app.py not found); "
                      "run from a source checkout or install with `pip install -e .`")


def show_people(settings: Settings) -> bool:
    """Whether the People page exists: `[privacy] show_people` (default false)."""
    return settings.show_people


def command(port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS) -> list[str]:
    """The `streamlit run` command line: loopback by default, headless, no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_path()),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # the app's files do not change under a deployment: no file watcher (and no inotify limits)
        "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
        # no "Deploy" button or developer menu: this is an internal tool, not a Streamlit Cloud app
        "--client.toolbarMode", "minimal",
    ]


def serve(settings: Settings, port: int = DEFAULT_PORT, address: str = DEFAULT_ADDRESS) -> int:
    """Run the dashboard until it is stopped (Ctrl-C); returns Streamlit's exit code."""
    if not 0 < port < 65536:
        raise ConfigError(f"not a port number: {port}")
    show_people(settings)  # a broken setting fails here, with its file, not inside the app
    environment = {**os.environ, HOME_ENV: str(settings.home)}
    try:
        # Run in the data directory, so that its .streamlit/secrets.toml (login) and .streamlit/config.toml
        # (TLS, theme) belong to this deployment; Streamlit also reads ~/.streamlit/ of the service user.
        return subprocess.call(command(port, address), env=environment, cwd=settings.home)
    except KeyboardInterrupt:
        return 0
