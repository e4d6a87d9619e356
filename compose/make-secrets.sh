#!/bin/sh
# Writes the secrets compose.yaml reads into compose/secrets/ (once: existing files are
# kept). Random passwords; the URLs name the Compose services `postgres` and `redis`.
# Compose mounts secret files as they are on the host, readable by the containers' own
# users (postgres, redis, uid 1000), so the files are 0644 inside a 0700 directory.
set -eu
dir=${1:-$(dirname "$0")/secrets}
mkdir -p "$dir"
chmod 700 "$dir"
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
put() {  # put NAME VALUE: write the file unless it exists
  [ -e "$dir/$1" ] || { printf '%s' "$2" >"$dir/$1" && chmod 644 "$dir/$1"; }
}
for name in postgres_password db_migrator_password db_web_password db_worker_password \
  redis_password django_secret_key metrics_token; do
  put "$name" "$(random)"
done
redis=$(cat "$dir/redis_password")
put redis_conf "requirepass $redis
"
for role in migrator web worker; do
  put "database_url_$role" \
    "postgres://duet_$role:$(cat "$dir/db_${role}_password")@postgres:5432/duet"
done
put broker_url "redis://:$redis@redis:6379/0"
put cache_url "redis://:$redis@redis:6379/1"
# Empty unless you use DUET_PROVIDER=openai: put your key here before `docker compose up`.
put openai_api_key ""
echo "secrets in $dir"
