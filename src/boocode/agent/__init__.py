"""The agent: durable turns, context building and the tool phase."""
