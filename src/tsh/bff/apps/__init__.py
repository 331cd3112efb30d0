"""One package per Flutter app; importing this package registers every declaration."""
import tsh.bff.apps.salesperson  # noqa: F401
import tsh.bff.apps.consumer  # noqa: F401
import tsh.bff.apps.pos  # noqa: F401
