"""Simulated homes: residents living their days and the sensor firmware that watches them.

The simulator stands in for real homes until there are real ones. Personas
(:mod:`~firmware_sim.persona`) live days drawn from their habits
(:mod:`~firmware_sim.routine`); devices report them as real ones do
(:mod:`~firmware_sim.devices`, :mod:`~firmware_sim.climate`); incidents
(:mod:`~firmware_sim.incidents`) change the days and leave labelled ground
truth. Live, homes speak zigbee2mqtt to real hub agents
(:mod:`~firmware_sim.live`); offline, they become recordings on disk
(:mod:`~firmware_sim.offline`, :mod:`~firmware_sim.recording`). See
docs/simulator.md.
"""
