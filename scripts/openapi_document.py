"""Write the OpenAPI document the server serves at /openapi.json to a file (or stdout), without
starting a server or touching a database: `make dart-client` generates the Dart client from it."""

from __future__ import annotations

import json
import sys

from tsh.config import Settings
from tsh.main import create_app


def main(argv: list[str]) -> None:
    document = json.dumps(create_app(Settings(env="test")).openapi(), indent=1)
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as out:
            out.write(document)
    else:
        sys.stdout.write(document)


if __name__ == "__main__":
    main(sys.argv)
