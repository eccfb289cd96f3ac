#!/bin/bash
# LocalStack ready.d hook: the Secrets Manager secret the pg-fanout functions read at cold start,
# in the RDS secret shape (host, port, username, password, dbname), pointing at the compose
# PostgreSQL by its service name. The values come from docker-compose.yml. Idempotent.
set -euo pipefail

name="${PG_FANOUT_SECRET_NAME:-pg-fanout/database}"
secret=$(printf '{"engine":"postgres","host":"%s","port":%s,"username":"%s","password":"%s","dbname":"%s"}' \
  "${PG_FANOUT_DB_HOST:-postgres}" "${PG_FANOUT_DB_PORT:-5432}" "${PG_FANOUT_DB_USER:-pgfanout}" \
  "${PG_FANOUT_DB_PASSWORD:-pgfanout}" "${PG_FANOUT_DB_NAME:-pgfanout}")

if awslocal secretsmanager describe-secret --secret-id "$name" >/dev/null 2>&1; then
  awslocal secretsmanager put-secret-value --secret-id "$name" --secret-string "$secret" >/dev/null
  echo "pg-fanout: updated secret $name"
else
  awslocal secretsmanager create-secret --name "$name" --description "pg-fanout: the compose PostgreSQL" --secret-string "$secret" >/dev/null
  echo "pg-fanout: created secret $name"
fi
