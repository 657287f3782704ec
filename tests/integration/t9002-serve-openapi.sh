#!/bin/bash
# t9002: doc/openapi.json (OpenAPI 3.1) validated against the real answers of
# `patchgap serve`: every path, the documented error statuses, advisories in
# every format, decisions; and the watch daemon's events table read when it
# exists (created here the way the daemon does) and an empty list before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-serve.sh"
PY=/usr/bin/python3
$PY -c "import jsonschema; jsonschema.Draft202012Validator" 2>/dev/null || PY=python3
$PY -c "import jsonschema; jsonschema.Draft202012Validator" 2>/dev/null || skip_all "python3-jsonschema (2020-12) not available"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not available"
cd $T
serve_repo
READ=$($PG --db $DB token add r --role reader 2>/dev/null)
TRI=$($PG --db $DB token add t --role admin 2>/dev/null)
serve_start
$PY "$SRC/tests/integration/openapi-check.py" "$SRC/doc/openapi.json" "$URL" "$READ" "$TRI" "$CVE" vendor "$F" ||
	fail "OpenAPI checks"
# two events as the watch daemon writes them (its outbox table is in every database)
sqlite3 $DB "INSERT INTO events (id, created, kind, key, target, branch, config, old_state, new_state, payload) VALUES
	(1, 1796515200, 'branch.fixed', 'k1', '$CVE', 'vendor', NULL, 'affected', 'fixed', '{}'),
	(2, 1796515260, 'branch.fixed', 'k2', '$CVE', 'linux-6.1.y', NULL, NULL, 'fixed', '{}');"
curl -s -H "Authorization: Bearer $READ" "$URL/api/v1/events?after=1" >ev.json
check "events after 1: the second one" bash -c "jq -e '[.events[].id] == [2] and .last == 2 and .events[0].branch == \"linux-6.1.y\"' ev.json >/dev/null"
check "events: created is ISO 8601" bash -c "jq -e '.events[0].created == \"2026-12-06T00:01:00Z\"' ev.json >/dev/null"
finish
