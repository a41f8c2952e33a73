#!/usr/bin/env bash
# The whole suite: lint, then pytest on SQLite and again (database tests) on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
venv=${VENV:-.venv}

"$venv/bin/ruff" check .
"$venv/bin/mypy" app

pgdir=$(mktemp -d /tmp/yijian-pg.XXXXXX)
chmod 755 "$pgdir"
port=${YIJIAN_TEST_PG_PORT:-$((54000 + RANDOM % 1000))}
trap 'bash scripts/pg.sh stop "$pgdir"' EXIT
pg_url=$(bash scripts/pg.sh start "$pgdir" "$port")

echo "== pytest on SQLite"
"$venv/bin/pytest" "$@"
echo "== pytest on PostgreSQL ($pg_url)"
YIJIAN_TEST_DATABASE_URL=$pg_url "$venv/bin/pytest" "$@"
