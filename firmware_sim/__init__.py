"""Simulated homes: residents living their days and the sensors that watch them.

The simulator stands in for real homes until there are real ones: it drives
the hub agent through the same driver interface as real sensors, at any
speed-up, and injects labelled incidents (a fall, a pendant press) so that the
path from sensor to alert can be shown and measured.
"""
