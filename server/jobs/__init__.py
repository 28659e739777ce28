"""Periodic work of a server: hub health, daily check-ins, detector checkpoints.

Each job is a round run every few seconds by :func:`server.jobs.periodic.every`;
a new periodic task (a weekly battery report, say) is a module here.
"""
