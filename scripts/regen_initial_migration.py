"""Regenerate migrations/versions/0001_schema.py from the models.

Only while nothing has been released: once a database in the field has 0001, add new revisions
instead. Autogenerate runs in a scratch copy of the environment so the data revisions that
follow 0001 do not get in the way.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "migrations"
        (scratch / "versions").mkdir(parents=True)
        for name in ("env.py", "script.py.mako"):
            shutil.copy(ROOT / "migrations" / name, scratch / name)
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(scratch))
        cfg.attributes["database_url"] = f"sqlite+aiosqlite:///{tmp}/empty.sqlite3"
        command.revision(cfg, message="schema", autogenerate=True, rev_id="0001")
        generated = next((scratch / "versions").glob("0001_*.py"))
        target = ROOT / "migrations" / "versions" / "0001_schema.py"
        # Autogenerate renders JSONB's default argument without its module prefix.
        target.write_text(generated.read_text().replace("astext_type=Text()", "astext_type=sa.Text()"))
    subprocess.run([sys.executable, "-m", "ruff", "format", str(target)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "-q", str(target)], check=False)
    print(f"regenerated {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
