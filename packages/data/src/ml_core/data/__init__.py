"""PCAM data: datasets, fast balanced loaders, synthetic PCAM, download and checks."""

__all__: list[str] = []
