# Edge Model Studio: the dashboard, the engine CLI, and (same image) the Ray head/workers and the MLflow server
# of compose.yaml. CPU only. Runs as the unprivileged user "studio".
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    STUDIO_WORKSPACE=/workspace

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libgl1 libglib2.0-0 g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-team.txt ./
RUN pip install -r requirements.txt -r requirements-team.txt

# Named volumes start with the ownership of these folders, so the user can write the workspace and MLflow's store.
RUN useradd --create-home --uid 1000 --user-group studio \
    && mkdir -p /workspace /mlflow \
    && chown studio:studio /workspace /mlflow
COPY --chown=root:root . .
USER studio
# NNCF's C++ quantization extension (QAT) compiled at build time, not on the first QAT of a running container
RUN python -m engine.compression.nncf_extension

VOLUME ["/workspace"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD curl -fsS http://localhost:8501/_stcore/health || exit 1
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
