# Bench fixture (scripts/bench/parallel.js): the example worker plus one RUN of single-core CPU
# work, so a platform's build keeps one core busy for a while (arm64 under QEMU far longer for
# the same work, hence the per-platform BENCH_WORK). BENCH_NONCE makes every round build afresh.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG TORCH_VERSION
ARG TORCHAUDIO_VERSION
ARG TORCH_INDEX_URL
ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
RUN python3 -m pip install --index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION" "torchaudio==$TORCHAUDIO_VERSION"
ARG BENCH_WORK=3000000
ARG BENCH_NONCE=0
RUN python3 -c "import sys; n = int(sys.argv[1]); print(sum(i * i % 7 for i in range(n)), sys.argv[2])" "$BENCH_WORK" "$BENCH_NONCE"
RUN useradd --create-home --uid 10001 worker && mkdir -p /models && chown worker /models
ENV HF_HOME=/models
COPY server.py /app/server.py
USER worker
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8477/healthz', timeout=4)" || exit 1
CMD ["python3", "/app/server.py"]
