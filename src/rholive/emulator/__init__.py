"""A local Live API server: the wire protocol, its rules, turn taking, resumption, tokens and faults."""

from rholive.emulator.options import EmulatorOptions
from rholive.emulator.server import Emulator

__all__ = ["Emulator", "EmulatorOptions"]
