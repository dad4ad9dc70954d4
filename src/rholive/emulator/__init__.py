"""A local Live API server: the wire protocol, its rules, turn taking, resumption, tokens and faults."""

from rholive.emulator.brains import Brain, CallTool, Say, UserTurn, load_brain
from rholive.emulator.options import EmulatorOptions
from rholive.emulator.server import Emulator

__all__ = ["Brain", "CallTool", "Emulator", "EmulatorOptions", "Say", "UserTurn", "load_brain"]
