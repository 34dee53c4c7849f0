"""The training web API: models, normalisation, and the polite, resumable page crawler."""
