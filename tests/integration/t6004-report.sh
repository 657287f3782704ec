#!/bin/bash
# t6004: 'patchgap report' on a generated fix history whose dates are known:
# the JSON numbers (windows, P90, open ages, classifier lead, per-group
# statistics) equal an independent computation in Python; the HTML page is
# standalone (no external URL, script or stylesheet), parses, and has its
# three charts; the output is byte-stable; bad input fails clearly.
# run.sh: sqlite only (reports from --input JSON, never opens a database)
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
P=$PATCHGAP_BIN
command -v python3 >/dev/null || { echo "SKIP: python3 not available"; exit 0; }

python3 - "$T" <<'PY' || fail "generator/checker setup"
import json, random, sys, datetime as dt
T = sys.argv[1]
rnd = random.Random(6004)
base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
iso = lambda d: (base + dt.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")
fixes, expect = [], {"windows": [], "open": [], "lead": [], "tag": [], "groups": {}}
for i in range(60):
    br = ["debian-6.1", "android-6.6", "6.12"][i % 3]
    up = rnd.randint(0, 300)
    f = {"id": "CVE-2024-%05d" % i, "branch": br, "subject": "fix <thing> & \"stuff\" %d" % i,
         "priority": rnd.choice(["critical", "high", "medium"]), "bug_class": rnd.choice(["uaf", "oob", "null-deref"]),
         "subsystem": rnd.choice(["net", "fs", "drivers/gpu"]), "upstream_sha": "%040x" % i,
         "upstream_date": iso(up), "mainline_release": "6.%d" % (i % 10), "mainline_release_date": iso(up + 20),
         "stable_release": "6.1.%d" % i, "stable_release_date": iso(up + 25)}
    if i % 7 != 0:
        w = rnd.randint(0, 200)
        f["branch_date"] = iso(up + w)
        f["branch_sha"] = "%040x" % (i + 1000)
        if i % 2:
            f["branch_tag"] = "v6.1.%d-1" % i
            f["branch_tag_date"] = iso(up + w + 3)
    if i % 5 == 0:
        f["classifier_date"] = iso(up + 1)
        f["cve_date"] = iso(up + 1 + rnd.randint(1, 90))
    fixes.append(f)
json.dump({"title": "generated history", "fixes": fixes}, open(T + "/in.json", "w"), indent=1)
PY
$P report --input "$T/in.json" --json >"$T/r.json" || fail "report --json"
$P report --input "$T/in.json" --format json | cmp -s - "$T/r.json" || fail "json not byte-stable"
python3 - "$T" <<'PY' || fail "numbers differ from the independent computation"
import json, sys, datetime as dt, math
T = sys.argv[1]
inp = json.load(open(T + "/in.json"))["fixes"]
rep = json.load(open(T + "/r.json"))
P = lambda s: dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
def q(v, p):
    v = sorted(v); h = (len(v) - 1) * p; lo = math.floor(h)
    return v[-1] if lo + 1 >= len(v) else v[lo] + (h - lo) * (v[lo + 1] - v[lo])
keys = [k for k in ("upstream_date", "mainline_release_date", "stable_release_date", "branch_date", "branch_tag_date", "cve_date", "classifier_date")]
as_of = max(P(f[k]) for f in inp for k in keys if k in f)
win = [(P(f["branch_date"]) - P(f["upstream_date"])) / 86400 for f in inp if "branch_date" in f]
age = [(as_of - P(f["upstream_date"])) / 86400 for f in inp if "branch_date" not in f]
lead = [(P(f["cve_date"]) - P(f["classifier_date"])) / 86400 for f in inp if "cve_date" in f and P(f["classifier_date"]) < P(f["cve_date"])]
tag = [(P(f["branch_tag_date"]) - P(f["upstream_date"])) / 86400 for f in inp if "branch_tag_date" in f]
bad = []
def chk(name, got, want):
    if abs(got - want) > 1e-5 * max(1, abs(want)): bad.append("%s: got %r want %r" % (name, got, want))
for name, vals, key in (("window", win, "window_days"), ("open", age, "open_age_days"), ("lead", lead, "classifier_lead_days"), ("tag", tag, "tag_window_days")):
    s = rep[key]
    chk(name + ".n", s["n"], len(vals)); chk(name + ".median", s["median"], q(vals, .5)); chk(name + ".p90", s["p90"], q(vals, .9))
    chk(name + ".mean", s["mean"], sum(vals) / len(vals)); chk(name + ".max", s["max"], max(vals))
chk("open count", rep["fixes_open"], len(age))
for dim in ("priority", "bug_class", "subsystem", "branch"):
    for key, g in rep["groups"][dim].items():
        vals = [(P(f["branch_date"]) - P(f["upstream_date"])) / 86400 for f in inp if f[dim] == key and "branch_date" in f]
        chk(dim + "/" + key + ".median", g["window_days"]["median"], q(vals, .5))
        chk(dim + "/" + key + ".p90", g["window_days"]["p90"], q(vals, .9))
        chk(dim + "/" + key + ".open", g["open"], sum(1 for f in inp if f[dim] == key and "branch_date" not in f))
if len(rep["groups"]["branch"]) != 3: bad.append("branch groups")
bad and print("\n".join(bad)); sys.exit(1 if bad else 0)
PY

$P report --input "$T/in.json" --format html --out "$T/r.html" || fail "html"
grep -qiE 'https?:|src=|href=|@import|url\(|<script|<link' "$T/r.html" && fail "HTML is not standalone: $(grep -oiE 'https?:[^"]*|src=|href=|@import|url\(|<script|<link' "$T/r.html" | head -3)"
[ "$(grep -c '<svg' "$T/r.html")" = 3 ] || fail "expected 3 SVG charts"
python3 - "$T/r.html" <<'PY' || fail "HTML does not parse"
import sys, html.parser
class P(html.parser.HTMLParser):
    def __init__(s): super().__init__(); s.stack = []
    def handle_starttag(s, t, a):
        if t not in ("meta", "line", "circle", "rect", "br"): s.stack.append(t)
    def handle_startendtag(s, t, a): pass
    def handle_endtag(s, t):
        if t in ("rect",): return
        assert s.stack and s.stack[-1] == t, "unbalanced </%s> after %s" % (t, s.stack[-3:])
        s.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
assert not p.stack, "unclosed %s" % p.stack
PY
$P report --input "$T/in.json" --branch 6.12 >"$T/r.txt" || fail "text --branch"
grep -q "^  commit in the branch" "$T/r.txt" || fail "text has no window line"
grep -q "debian-6.1" "$T/r.txt" && fail "--branch 6.12 shows another branch"
grep -q "^Open fixes" "$T/r.txt" || fail "text lists no open fixes"

# an empty history is a valid (empty) report in every format
echo '{"fixes": []}' >"$T/empty.json"
for f in text json html; do $P report --input "$T/empty.json" --format $f >/dev/null || fail "empty input, $f"; done

# errors
$P report --input "$T/in.json" --branch nope >/dev/null 2>"$T/e"; [ $? = 3 ] || fail "unknown branch exit code"
grep -q "no fix for branch 'nope'" "$T/e" || fail "unknown branch message: $(cat "$T/e")"
echo '{"fixes": [{"id": "X", "branch": "b", "upstream_date": "yesterday"}]}' >"$T/bad.json"
$P report --input "$T/bad.json" >/dev/null 2>"$T/e"; [ $? = 4 ] || fail "bad date exit code"
grep -q "bad.json: fixes\[0\]: 'upstream_date' must be an ISO 8601 date" "$T/e" || fail "bad date message: $(cat "$T/e")"
$P report --input "$T/in.json" --format pdf >/dev/null 2>&1; [ $? = 2 ] || fail "bad format exit code"
$P report --help | grep -q "^usage: patchgap .*report" || fail "--help"
echo "ok report"
