FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock package.json package-lock.json ./
RUN pip install --no-cache-dir -r requirements.lock && npm ci --no-audit --no-fund
COPY . .
# Everything derived from the code is built here, once: front-end packages, translations and the
# collected static files (served by whitenoise). Nothing is written into /app at run time.
ENV PASSNUM_ENV=production \
    PASSNUM_DATA_DIR=/data \
    PASSNUM_TERRITORIES_DIR=/app/referentiels/decoupage-administratif \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/data/media
# The referential of communes (npm package @etalab/decoupage-administratif) is runtime data: the
# files its loader reads (migration, `manage.py load_territories`) are kept when node_modules goes.
RUN mkdir -p /app/referentiels/decoupage-administratif/data \
    && cp node_modules/@etalab/decoupage-administratif/package.json /app/referentiels/decoupage-administratif/ \
    && cp node_modules/@etalab/decoupage-administratif/data/communes.json \
          node_modules/@etalab/decoupage-administratif/data/departements.json \
          /app/referentiels/decoupage-administratif/data/
RUN python scripts/build_static.py \
    && DJANGO_SECRET_KEY=build-only python manage.py compilemessages --ignore=node_modules -v 0 \
    && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && rm -rf node_modules
# A user of its own, owning only the data folder it writes to (the shared file store when the
# local one is used); the code and the static files stay read-only for it.
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin passnum \
    && mkdir -p /data/media && chown -R passnum:passnum /data
USER passnum
VOLUME ["/data"]
EXPOSE 8000
CMD ["gunicorn", "passnum.wsgi:application", "--config", "passnum/gunicorn.conf.py"]
