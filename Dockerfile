# One image for the web app, the worker and one-off commands (yijian db upgrade, demo, ...).
FROM python:3.11-slim-bookworm

# Noto CJK renders the Chinese in PDF letters, posters and evaluation forms;
# postgresql-client (15, as the compose database) gives `yijian backup` its pg_dump.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 yijian
WORKDIR /srv/yijian
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir .

ENV YIJIAN_ENV=prod \
    PYTHONUNBUFFERED=1
USER yijian
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["yijian", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
