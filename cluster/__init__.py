"""Assembly and adapters: settings, bootstrap, database, events, object storage, tracing, CLI."""
