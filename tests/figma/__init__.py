"""Figma test helpers: Figma's official REST API schema, and a fake Figma REST server."""
