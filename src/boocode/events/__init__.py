"""Frames on their way to clients: the ordered event log and the bus that carries it."""
