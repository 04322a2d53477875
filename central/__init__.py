"""The reference central platform and terminal management service (aiohttp)."""

__version__ = "0.1.0"
