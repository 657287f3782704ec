#!/bin/bash
# t6006: 'patchgap report' from the database on a generated history
# (tools/gen-history.py) whose dates are known: CNA-style records are made
# from the ground truth, and the report's per-branch open/closed fixes,
# every exposure window and the per-branch medians / P90s are checked
# against the truth and the git dates, computed independently here.
. "$(dirname "$0")/lib.sh"
[ -n "$SHARED" ] || skip_all "../shared/data not present (the generator names CVEs only with it)"
gen_repo small 11
cd $T
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 $PG ingest >/dev/null 2>ingest.err || { tail ingest.err; exit 1; }
python3 - "$TRUTH" <<'PY'
import json, os, sys
t = json.load(open(sys.argv[1]))
for f in t['fixes']:
    if not f.get('cve'):
        continue
    d = 'vulns/cve/published/%s' % f['cve'].split('-')[1]
    os.makedirs(d, exist_ok=True)
    open('%s/%s.sha1' % (d, f['cve']), 'w').write(f['fix'] + '\n')
PY
$PG --db patchgap.db cve import vulns >/dev/null 2>&1
$PG --db patchgap.db report --json >report.json 2>err || { cat err; exit 1; }
$PG --db patchgap.db report --format html --out report.html 2>err || { cat err; exit 1; }
check "html report has its three charts" test "$(grep -c '<svg' report.html)" = 3
python3 - "$TRUTH" "$GEN" <<'PY'
import json, math, subprocess, sys
t = json.load(open(sys.argv[1])); repo = sys.argv[2]
rep = json.load(open('report.json'))
dates = dict(l.split() for l in subprocess.run(['git', '-C', repo, 'log', '--all', '--format=%H %ct'],
                                              capture_output=True, text=True, check=True).stdout.splitlines())
def ct(sha):
    return int(dates[sha])
def q(v, p):
    v = sorted(v); h = (len(v) - 1) * p; lo = math.floor(h)
    return v[-1] if lo + 1 >= len(v) else v[lo] + (h - lo) * (v[lo + 1] - v[lo])
got = {(f['branch'], f['id']): f for f in rep['fixes']}
bad = 0
for name, b in sorted(t['branches'].items()):
    if b['kind'] != 'stable':
        continue
    windows, nopen, ncheck = [], 0, 0
    for f in t['fixes']:
        e = f['branches'].get(name) if f.get('cve') else None
        if not e:
            # no introducer known, the fix not in the base: open (CNA convention)
            series = tuple(int(x) for x in b['base_tag'][1:].split('.')[:2])
            fixv = tuple(int(x) for x in f['mainline_version'].split('-')[0].split('.')[:2])
            if f.get('cve') and not f['introducers'] and fixv > series:
                nopen += 1
            continue
        g = got.get((name, f['cve']))
        if g is None:
            bad += 1; print("not ok - %s %s missing from the report" % (name, f['cve'])); continue
        if e['fix_sha'] == '0':
            nopen += 1
            if not g['open']:
                bad += 1; print("not ok - %s %s should be open" % (name, f['cve']))
            continue
        w = (ct(e['fix_sha']) - ct(f['fix'])) / 86400
        windows.append(w)
        ncheck += 1
        if g['open'] or abs(g['window_days'] - w) > 1e-3 * max(1, abs(w)) or g['branch_sha'] != e['fix_sha']:
            bad += 1; print("not ok - %s %s window %r, want %r" % (name, f['cve'], g.get('window_days'), w))
    grp = rep['groups']['branch'].get(name)
    if windows:
        s = grp['window_days']
        if s['n'] != len(windows) or abs(s['median'] - q(windows, .5)) > 1e-3 or abs(s['p90'] - q(windows, .9)) > 1e-3 * max(1, q(windows, .9)):
            bad += 1; print("not ok - %s stats %r, want n=%d median %.4f p90 %.4f" % (name, s, len(windows), q(windows, .5), q(windows, .9)))
    if grp and grp['open'] != nopen:
        bad += 1; print("not ok - %s open %d, want %d" % (name, grp['open'], nopen))
    print("ok - %s: %d closed windows and %d open fixes as in the truth" % (name, ncheck, nopen))
sys.exit(1 if bad else 0)
PY
[ $? = 0 ] || fail "report differs from the truth"
finish
