"""Streaming detectors: pure, event-time, handed readings and watermarks."""
