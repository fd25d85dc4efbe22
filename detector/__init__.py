"""shadow-ai detector: find public AI services in proxy, DNS and firewall logs, fully offline."""

__version__ = "0.1.0"
