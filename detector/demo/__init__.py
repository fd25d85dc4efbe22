"""`shadow-ai demo`: a simulated Dutch municipality whose network logs exercise the whole product.

The simulator is deterministic for a seed and a period. It builds an organisation (organisation.py),
decides who uses which AI service when (habits.py, services.py), generates each day's connections as
numpy columns (traffic.py), writes them in several vendor formats at once (writers.py), and computes the
ground truth from what it wrote (truth.py). run.py ties it to ingest and classify; commands.py is the
click command.
"""

from detector.errors import DetectorError


class DemoError(DetectorError):
    """The demo cannot run: the output directory is in use, or the catalog lacks a simulated service."""
