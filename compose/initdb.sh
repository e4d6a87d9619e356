#!/bin/sh
# duet's database and its three roles, at the PostgreSQL container's first start
# (/docker-entrypoint-initdb.d/): shared_resource's roles.sql, the same script the native
# harness and the NixOS module run, with each role's password read from its secret file.
set -eu
secrets=${DUET_SECRETS_DIR:-/run/secrets}
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v db=duet -v migrator=duet_migrator -v web=duet_web -v worker=duet_worker \
  -v migrator_password_file="$secrets/db_migrator_password" \
  -v web_password_file="$secrets/db_web_password" \
  -v worker_password_file="$secrets/db_worker_password" \
  -f "${DUET_ROLES_SQL:-/duet/roles.sql}"
