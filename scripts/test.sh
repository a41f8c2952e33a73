#!/usr/bin/env bash
# The whole suite: lint, then pytest on SQLite and again (database tests) on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
venv=${VENV:-.venv}

"$venv/bin/ruff" check .
"$venv/bin/mypy" app
"$venv/bin/bandit" -c pyproject.toml -r app -q
# pip-audit asks PyPI's vulnerability API. Where that is unreachable (offline, or a mirror
# without the JSON API) it skips packages: say so loudly rather than pass silently or fail.
set +e
audit=$("$venv/bin/pip-audit" --progress-spinner off --skip-editable 2>&1)
status=$?
set -e
unaudited=$(grep -c "could not be audited" <<<"$audit" || true)
if [ "$status" -ne 0 ] && grep -qiE "vulnerab.* found|Found [0-9]+ known" <<<"$audit"; then
  echo "$audit"
  exit "$status"
elif [ "$status" -ne 0 ] || [ "$unaudited" -gt 0 ]; then
  echo "pip-audit: the PyPI vulnerability API is unreachable from here;" \
    "${unaudited} packages NOT checked (status $status)." >&2
else
  echo "pip-audit: no known vulnerabilities"
fi

pgdir=$(mktemp -d /tmp/yijian-pg.XXXXXX)
chmod 755 "$pgdir"
port=${YIJIAN_TEST_PG_PORT:-$((54000 + RANDOM % 1000))}
trap 'bash scripts/pg.sh stop "$pgdir"' EXIT
pg_url=$(bash scripts/pg.sh start "$pgdir" "$port")

echo "== pytest on SQLite"
"$venv/bin/pytest" "$@"
echo "== pytest on PostgreSQL ($pg_url)"
YIJIAN_TEST_DATABASE_URL=$pg_url "$venv/bin/pytest" "$@"
