# Production image: gunicorn workers serving bot:create_app(). The campaign scheduler runs
# as its own container from the same image, command `legalbot scheduler` (same
# LEGALBOT_* variables; a second one only stands by: they share a lock).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LEGALBOT_CONFIG=/app/config.toml

WORKDIR /app
COPY pyproject.toml README.md config.toml ./
COPY bot ./bot
COPY scheduler ./scheduler
COPY content ./content
RUN pip install . \
    && useradd --system --home /app legalbot \
    && mkdir -p /app/var \
    && chown -R legalbot /app/var /app/content \
    && chmod 700 /app/var

USER legalbot
EXPOSE 8000
# content/ is the knowledge base editors publish into from the console: keep it on a
# volume (README, Production layout), seeded from the image on first use.
VOLUME ["/app/var", "/app/content"]

HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

# The schema is upgraded once (idempotent, guarded by an advisory lock on PostgreSQL),
# then the workers start. Several workers need LEGALBOT_REDIS_URL (shared state).
# bot/cli/gunicorn_conf.py: the access log without query strings (OpenIDs, signatures).
CMD ["sh", "-c", "legalbot db upgrade && exec gunicorn -c python:bot.cli.gunicorn_conf --workers ${WORKERS:-4} --worker-class gthread --threads 4 --bind 0.0.0.0:8000 --timeout 30 'bot:create_app()'"]
