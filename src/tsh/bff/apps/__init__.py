"""One package per Flutter app; importing this package registers every declaration."""
