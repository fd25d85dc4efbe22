"""Judgements about events that are not in the logs: who, which department, and what policy says."""
