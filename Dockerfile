# The shixian image for docker-compose.yml: the CLI as entry point (worker, start, status…).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shixian shixian
COPY calendars calendars
COPY workflows workflows
COPY activities activities
COPY policies policies
COPY delivery delivery
RUN pip install --no-cache-dir .
ENTRYPOINT ["shixian"]
CMD ["--help"]
