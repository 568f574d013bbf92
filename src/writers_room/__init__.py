"""writers-room: a data-driven, agentic writers' room for microdramas."""

__version__ = "0.1.0"
