FROM python:3.11-slim
WORKDIR /srv/eventops
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY schema ./schema
COPY resolvers ./resolvers
COPY jobs ./jobs
COPY migrations ./migrations
RUN pip install --no-cache-dir .
# Run from the source tree so Alembic finds alembic.ini and migrations/.
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["eventops", "serve", "--host", "0.0.0.0", "--port", "8000"]
