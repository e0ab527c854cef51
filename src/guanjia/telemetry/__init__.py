"""Live monitoring of official vehicles over JT/T 808: codec, gateway, position archive,
live state, trips, misuse rules, simulator."""
