"""Agents and the orchestrator: pure logic classes plus thin Ray actor shells."""
