"""The portal HTTP API (FastAPI behind Ray Serve)."""
