"""Chat sessions: snapshots for rehydrating clients, the timeline, restore."""
