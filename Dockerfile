# syntax=docker/dockerfile:1
# The visualizer as a container image: the front-end bundle is built in a Node stage and only its
# output is copied into the Python runtime, which ships Graphviz and the app, nothing else.

ARG PYTHON_VERSION=3.11
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS static
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY scripts/vendor-static.mjs scripts/
RUN node scripts/vendor-static.mjs

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install --no-compile -r requirements.txt
COPY webapp/ webapp/
COPY templates/ templates/
COPY static/ static/
COPY --from=static /src/static/vendor/ static/vendor/
RUN mkdir /data && chown 65534:65534 /data
ENV HOST=0.0.0.0 PORT=5000 WEBAPP_DATABASE=/data/shares.sqlite3
VOLUME /data
USER 65534:65534
EXPOSE 5000
CMD ["gunicorn", "--config", "webapp/gunicorn_conf.py", "webapp.web:create_app()"]
