FROM python:3.13-slim
# VAR_DIR: the data folder (a volume in docker-compose.yml); the image itself holds no data.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
# .dockerignore keeps .env, .venv, var/ and .git out of the image.
COPY . .
RUN useradd --create-home crm && mkdir -p /data && chown crm /data
USER crm
EXPOSE 8000
