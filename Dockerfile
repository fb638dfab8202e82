# One image for every process of the assistant (docker-compose.yml picks the command).
# The Rasa model is trained here, during the build (`make model`), so every replica runs exactly
# the model of its image and nothing has to be mounted; the training layer is rebuilt only when
# config.yml, domain.yml, data/ or nlu_components/ change (a few minutes, about 3 GB of memory).
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies: the same pinned set and the same .venv path as `make install` on a developer's machine,
# so the commands of Procfile and docker-compose.yml are the same.
COPY Makefile requirements.lock package-lock.json ./
RUN make install

# The model, from its inputs only (this layer's cache survives code changes).
COPY config.yml domain.yml ./
COPY data/ data/
COPY nlu_components/ nlu_components/
COPY scripts/model.py scripts/model.py
RUN make model && rm -rf .rasa

# The code (.dockerignore keeps out .venv, models, var, .env and the like).
COPY . .

RUN useradd --create-home --uid 10001 assistant \
    && mkdir -p var/photos \
    && chown -R assistant var
USER assistant

EXPOSE 5000
CMD [".venv/bin/gunicorn", "--workers", "2", "--threads", "16", "--bind", "0.0.0.0:5000", "webhook.app:create_app()"]
