"""Artifact lifecycle: the catalog of stored objects, the cleanup rules, and the sweep that applies them."""
