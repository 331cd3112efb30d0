# TSH BFF image: one `tsh serve` per container (run several behind nginx, deploy/compose.yaml).
# Not built by CI; kept minimal. Migrations run from the same image: `tsh migrate`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
RUN pip install -r /tmp/requirements.txt

# `tsh migrate` reads alembic.ini and migrations/ beside src/ (tsh.platform.db.migrate walks up
# from its own file), so the image carries them and installs the package editable in place.
COPY alembic.ini ./
COPY migrations ./migrations
COPY src ./src
RUN pip install --no-deps -e . && useradd --system --home /app tsh && mkdir -p /app/var && chown tsh /app/var
USER tsh

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"
CMD ["tsh", "serve", "--host", "0.0.0.0", "--port", "8000"]
