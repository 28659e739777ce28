"""Measuring detection: recordings replayed through detectors, alerts scored against labels."""
