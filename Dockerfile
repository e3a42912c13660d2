# Waymark service image (for docker-compose); development and tests need only Python.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY events events
COPY service service
COPY projections projections
RUN pip install --no-cache-dir -c requirements.lock . \
 && useradd --system --uid 10001 waymark
USER waymark
EXPOSE 8000
CMD ["waymark", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-demo"]
