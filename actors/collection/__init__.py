"""Data collection from any source: the rule-based MCP planner, generic results as evidence, web pages."""
