"""The user's documents: safe conversion to Markdown, chunks and table rows as evidence, and encrypted storage."""
