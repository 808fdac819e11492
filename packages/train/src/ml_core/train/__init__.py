"""Training: config to a trained, tracked, exactly resumable model."""

__all__: list[str] = []
