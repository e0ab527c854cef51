"""管家 Guanjia — a standards-driven operations platform for government-affairs administration."""

__version__ = "0.1.0"
