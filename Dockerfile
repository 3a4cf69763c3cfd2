# One image for every Bookvec service (web, worker-training, worker-default, beat); compose picks the command.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=collectstatic DATABASE_URL=postgres://x/x python manage.py collectstatic --no-input --verbosity 0
RUN useradd --create-home bookvec && chown -R bookvec /app
USER bookvec
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
