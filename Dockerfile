# One image for every Balise process (the four services, the three workers, migrations).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml README.md alembic.ini ./
RUN pip install --no-cache-dir "uv==0.13.9" && uv pip install --system --no-cache -r requirements.lock
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
RUN uv pip install --system --no-cache --no-deps . && useradd --system --uid 10001 balise \
    && mkdir -p /app/var && chown balise /app/var
USER balise
# The scoring kernels' compiled code (Numba): site-packages is not writable by balise.
ENV NUMBA_CACHE_DIR=/app/var/numba-cache
EXPOSE 8000 8001 8002 8003
CMD ["balise", "--help"]
