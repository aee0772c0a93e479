# syntax=docker/dockerfile:1
# Cache and bind mounts: dependencies are downloaded once into a cache that survives
# builds, and source is bind-mounted instead of copied into a layer.

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS base
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app

FROM base AS deps
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --prefix=/install -r /tmp/requirements.txt

FROM base AS test
COPY --from=deps /install /usr/local
RUN --mount=type=bind,target=/app,rw \
    --mount=type=cache,target=/root/.cache/pytest \
    python -m pytest -q

FROM base AS final
COPY --from=deps /install /usr/local
COPY --link src/ ./src/
RUN <<EOF
useradd --system --uid 10001 app
mkdir -p /app/data && chown app /app/data
EOF
USER app
CMD ["python", "-m", "src.server"]
