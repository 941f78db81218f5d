# carealloc REST API. Build: docker build -t carealloc .
# Run:   docker run -p 8000:8000 -v carealloc-data:/data carealloc
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CAREALLOC_DATA_DIR=/data

WORKDIR /app

# Dependencies first so code changes do not reinstall them.
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY allocator ./allocator
COPY geodata ./geodata
COPY api ./api
COPY benchmarks ./benchmarks
COPY docs ./docs
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin carealloc \
    && mkdir -p /data \
    && chown carealloc /data

USER 10001
EXPOSE 8000
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["carealloc"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
