"""Localization: country profiles, translation of a report's generated text, and per-market adaptation."""
