# lib-serve.sh - shared setup of the t9xxx tests (patchgap serve): source it
# after lib.sh.  serve_repo builds a small kernel-shaped history with a fix
# (commit $F, introducer $A, 6.1.y backport $B), a vendor branch that lacks
# the fix, an imported CVE ($CVE) for it, and ingests it into $DB.
# XSS=1 makes the fix subject and the vendor branch name hostile HTML.
# serve_start [options...] starts `patchgap serve --port 0` on 127.0.0.1,
# sets $URL and $SERVE_PID; the server is stopped (SIGTERM) on exit.
DB=$T/pg.db
CVE=CVE-2026-90001
VENDOR=vendor
SUBJECT="net: fix use-after-free in frobnicate()"
if [ "${XSS:-0}" = 1 ]; then
	VENDOR='acme<svg/onload=window.__xss=3>'
	SUBJECT='net: fix <script>window.__xss=1</script><img src=x onerror="window.__xss=2"> frob'
fi
SERVE_PID=""
serve_stop() {
	if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -TERM "$SERVE_PID"
		wait "$SERVE_PID" || echo "serve exited with $?" >>"$T/serve.err"
	fi
	SERVE_PID=""
}
trap 'serve_stop; [ -n "${PG_KEEP:-}" ] || rm -rf "$T"' EXIT

serve_repo() {
	local R=$T/repo
	git init -q -b master "$R"
	commit net/core/a.c a1 "net: initial"; g tag -a v6.0 -m v6.0
	commit net/core/a.c a2 "net: add frobnication"; A=$(g rev-parse HEAD)
	g tag -a v6.1 -m v6.1
	commit net/core/a.c a3 "$SUBJECT

The frob buffer is freed while still queued.

Fixes: ${A:0:12} (\"net: add frobnication\")
Cc: stable@vger.kernel.org"
	F=$(g rev-parse HEAD)
	commit mm/b.c b1 "mm: unrelated"; g tag -a v6.2 -m v6.2
	g checkout -q -b linux-6.1.y v6.1
	tick; g cherry-pick -x "$F" >/dev/null
	B=$(g rev-parse HEAD)
	g tag -a v6.1.1 -m v6.1.1
	g checkout -q -b "$VENDOR" v6.1
	commit vendor/x.c x1 "vendor: local change"
	g checkout -q master
	write_conf $T/patchgap.conf master:mainline linux-6.1.y:stable "$VENDOR:vendor:linux-6.1.y"
	(cd $T && PATCHGAP_CONFIG=$T/patchgap.conf ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		$PG --quiet ingest >/dev/null 2>$T/ingest.err) || { echo "ingest failed"; tail -30 $T/ingest.err; exit 1; }
	cat > $T/$CVE.json <<JSON
{"dataType": "CVE_RECORD", "dataVersion": "5.1",
 "cveMetadata": {"cveId": "$CVE", "assignerOrgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038", "state": "PUBLISHED",
                 "datePublished": "2026-02-02T10:00:00.000Z"},
 "containers": {"cna": {"providerMetadata": {"orgId": "f4215fc3-5b6b-47ff-a258-f7189bd81038"},
   "title": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$SUBJECT"),
   "descriptions": [{"lang": "en", "value": "In the Linux kernel, the following vulnerability has been resolved: frob."}],
   "metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}],
   "affected": [{"product": "Linux", "vendor": "Linux", "defaultStatus": "unaffected", "programFiles": ["net/core/a.c"],
     "repo": "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git",
     "versions": [{"version": "$A", "lessThan": "$F", "status": "affected", "versionType": "git"}]}],
   "references": [{"url": "https://git.kernel.org/stable/c/$F"}]}}}
JSON
	$PG --db $DB cve import $T/$CVE.json >/dev/null 2>$T/cve.err || { cat $T/cve.err; exit 1; }
}

serve_start() {
	: > $T/serve.out
	$PG --db $DB serve --port 0 "$@" >$T/serve.out 2>$T/serve.err &
	SERVE_PID=$!
	for _ in $(seq 1 200); do
		URL=$(head -1 $T/serve.out)
		[ -n "$URL" ] && break
		kill -0 $SERVE_PID 2>/dev/null || { echo "serve did not start:"; cat $T/serve.err; exit 1; }
		sleep 0.05
	done
	[ -n "$URL" ] || { echo "serve did not print its URL"; cat $T/serve.err; exit 1; }
	URL=${URL%/}
}
