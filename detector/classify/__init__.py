"""Judging destination hosts: which AI service (catalog), what an analyst said (labels), what the
model thinks of hosts nobody listed. Only DISTINCT hosts are judged; events are joined at query time."""
