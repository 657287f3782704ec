#!/usr/bin/env python3
"""cna-structure-repo.py -- realise the structure of real kernel CNA records in
one small kernel-shaped git repository, to check `patchgap affected` against
the CNA's own dyad lines.

Usage: tools/cna-structure-repo.py --data KERNEL_CVES_JSONL_GZ --out DIR
           [--seed N] [--per-class N]

Selects records (dyad 1.2.0, published) deterministically from a seeded
shuffle, in structure classes:
  mainline    bug introduced in mainline, fixed in several stable branches
  unfixed     a stable branch that never got the fix (dyad line X.Y.Z:sha:0:0)
  stable_in   bug entered a stable branch by backport (vuln_version X.Y.Z)
  multi_fix   several mainline fix commits
  override    introducer given by .vulnerable instead of a Fixes: tag
  unknown     introducer unknown (vuln 0:0)
Records whose structure cannot be realised (versions before 3.0, fix before
introducer, several mainline introducers, ...) are skipped and counted with
the reason.

Writes under DIR:
  repo/       the git repository (through git fast-import): master with
              annotated tags vX.Y, stable branches linux-X.Y.y forked at vX.Y
              with tags vX.Y.Z; per record one file drivers/cna/<CVE>.c, the
              introducer on mainline first released in its dyad version, the
              fix with `Fixes: <12 hex> ("subject")` (or a .vulnerable file),
              stable backports with `commit <sha> upstream.` at the record's
              stable versions (introducer backports for stable-introduced bugs)
  vulns/cve/published/YYYY/CVE-*.sha1 (+ .vulnerable)   with generated shas
  expected.json  per CVE: classes, the record's dyad lines with generated
              shas, and per tracked branch the accepted lines (see the test)
  branches.txt   the tracked branches, mainline first
  map.json       real sha -> generated sha
Deterministic: same input and seed give the same repository, byte for byte.
"""
import argparse, gzip, json, os, random, re, subprocess, sys

CLASSES = ['mainline', 'unfixed', 'stable_in', 'multi_fix', 'override', 'unknown']
MAINLINE_RE = re.compile(r'^(\d+)\.(\d+)$')
STABLE_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)$')


def mver(s):
    m = MAINLINE_RE.match(s)
    return (int(m.group(1)), int(m.group(2))) if m else None


def sver(s):
    m = STABLE_RE.match(s)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def vstr(t):
    return '.'.join(str(x) for x in t)


class Skip(Exception):
    pass


def analyse(r):
    """The record's structure, or Skip(reason)."""
    lines = r['dyad'] or []
    if not lines:
        raise Skip('no dyad lines')
    fixes = list(r['fix_sha'])
    override = list(r['vulnerable_override'] or [])
    for ln in lines:
        for k in ('vuln_version', 'fix_version'):
            v = ln[k]
            if v != '0' and not (mver(v) or sver(v)):
                raise Skip('unparsable version %s' % v)
            t = mver(v) or sver(v)
            if t and t[0] < 3:
                raise Skip('version before 3.0 (%s)' % v)
    mainline = []   # (intro sha|'0', intro ver|None, fix sha, fix ver)
    stable = []     # dict per stable line
    for ln in lines:
        vv, vs, fv, fs = ln['vuln_version'], ln['vuln_sha'], ln['fix_version'], ln['fix_sha']
        if fv != '0' and mver(fv):
            if fs not in fixes:
                raise Skip('mainline line fix is not a .sha1 fix')
            if vs != '0' and not mver(vv):
                raise Skip('mainline line with a stable vuln version')
            mainline.append((vs, mver(vv) if vs != '0' else None, fs, mver(fv)))
            continue
        if fv == '0' and not sver(vv):
            raise Skip('unfixed line without a stable vuln version')
        series = sver(fv)[:2] if fv != '0' else sver(vv)[:2]
        stable.append({'series': series, 'vv': vv, 'vs': vs, 'fv': fv, 'fs': fs,
                       'stable_in': bool(sver(vv)), 'line': ln})
    if not mainline:
        raise Skip('no mainline line')
    # a .sha1 entry may be a stable commit (a branch-only fix): it is then
    # realised as an unannotated commit of that branch
    stable_fixes = {s['fs'] for s in stable if s['fs'] in fixes}
    if set(fixes) - {m[2] for m in mainline} - stable_fixes:
        raise Skip('a .sha1 fix without a mainline line')
    intros = {m[0] for m in mainline if m[0] != '0'} | {s['vs'] for s in stable if mver(s['vv'])}
    if len(intros) > 1:
        raise Skip('several mainline introducers')
    if override and set(override) != intros:
        raise Skip('.vulnerable differs from the dyad introducers')
    intro = next(iter(intros)) if intros else None
    ivers = {m[1] for m in mainline if m[0] != '0'} | {mver(s['vv']) for s in stable if mver(s['vv'])}
    if len(ivers) > 1:
        raise Skip('introducer with several versions')
    iver = next(iter(ivers)) if ivers else None
    if intro is None and any(s['stable_in'] for s in stable):
        raise Skip('stable-introduced line without a mainline introducer')
    if intro is None and any(m[0] != '0' for m in mainline):
        raise Skip('inconsistent introducer')
    fixver = {}
    for m in mainline:
        if fixver.get(m[2], m[3]) != m[3]:
            raise Skip('fix with several versions')
        fixver[m[2]] = m[3]
        if iver and m[3] < iver:
            raise Skip('mainline fix before the introducer')
    seen = {}
    for s in stable:
        S = s['series']
        if S in seen and not len(fixes) > 1:
            raise Skip('several lines for one stable branch')
        seen[S] = 1
        if s['stable_in']:
            if iver is None or S >= iver:
                raise Skip('stable-introduced line on a branch whose base has the introducer')
            if s['fv'] != '0' and sver(s['fv']) < sver(s['vv']):
                raise Skip('stable fix not after the stable introducer')
        elif iver is not None and S < iver:
            raise Skip('stable line older than the introducer')
        if s['fv'] != '0':
            cand = sorted((v, f) for f, v in fixver.items() if v > S)
            if s['fs'] in fixes:
                # the record lists the branch's own commit in .sha1: realise it
                # as the backport of the mainline fix when there is one, else
                # as an unannotated branch-only fix
                s['upstream'] = cand[0][1] if cand else None
            elif not cand:
                raise Skip('stable fix on a branch whose base has every fix')
            else:
                s['upstream'] = cand[0][1]
    cls = []
    if len(fixes) > 1:
        cls.append('multi_fix')
    if intro is None:
        cls.append('unknown')
    if any(s['stable_in'] for s in stable):
        cls.append('stable_in')
    if any(s['fv'] == '0' for s in stable):
        cls.append('unfixed')
    if override:
        cls.append('override')
    if not cls and len(stable) >= 2:
        cls.append('mainline')
    if not cls:
        raise Skip('fewer than two stable branches and nothing special')
    return {'id': r['id'], 'fixes': fixes, 'fixver': fixver, 'intro': intro, 'iver': iver,
            'override': bool(override), 'mfixes': [m[2] for m in mainline], 'mainline': mainline, 'stable': stable, 'classes': cls,
            'subject': r.get('subject') or r['id']}


class FastImport:
    def __init__(self, repo):
        subprocess.run(['git', 'init', '-q', '-b', 'master', repo], check=True)
        rfd, wfd = os.pipe()
        self.p = subprocess.Popen(['git', '-C', repo, 'fast-import', '--quiet', '--done',
                                   '--cat-blob-fd=%d' % wfd], stdin=subprocess.PIPE, pass_fds=(wfd,))
        os.close(wfd)
        self.out = os.fdopen(rfd, 'rb')
        self.mark = 0
        self.time = 1500000000

    def w(self, s):
        self.p.stdin.write(s.encode() if isinstance(s, str) else s)

    def data(self, text):
        b = text.encode()
        self.w('data %d\n' % len(b))
        self.w(b)
        self.w('\n')

    def commit(self, ref, msg, files, parent=None):
        """files: {path: content}; returns (mark, sha)."""
        self.mark += 1
        self.time += 600
        who = 'A U Thor <author@example.org> %d +0000' % self.time
        self.w('commit %s\nmark :%d\nauthor %s\ncommitter %s\n' % (ref, self.mark, who,
                                                                  who.replace('A U Thor <author', 'C O Mitter <committer')))
        self.data(msg)
        if parent:
            self.w('from :%d\n' % parent)
        for path in sorted(files):
            b = files[path].encode()
            self.w('M 100644 inline %s\ndata %d\n' % (path, len(b)))
            self.w(b)
            self.w('\n')
        self.w('get-mark :%d\n' % self.mark)
        self.p.stdin.flush()
        sha = self.out.readline().decode().strip()
        return self.mark, sha

    def tag(self, name, mark):
        self.time += 60
        self.w('tag %s\nfrom :%d\ntagger C O Mitter <committer@example.org> %d +0000\n' % (name, mark, self.time))
        self.data('Linux %s\n' % name[1:])

    def close(self):
        self.w('done\n')
        self.p.stdin.close()
        if self.p.wait() != 0:
            sys.exit('git fast-import failed')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=3102)
    ap.add_argument('--per-class', type=int, default=10)
    a = ap.parse_args()

    recs = []
    for l in gzip.open(a.data, 'rt', encoding='utf-8'):
        r = json.loads(l)
        if r['state'] == 'published' and (r.get('dyad_meta') or {}).get('tool_version') == '1.2.0':
            recs.append(r)
    recs.sort(key=lambda r: r['id'])
    random.Random(a.seed).shuffle(recs)
    chosen, skips, count, used = [], {}, {c: 0 for c in CLASSES}, set()
    for r in recs:
        try:
            s = analyse(r)
        except Skip as e:
            e = re.sub(r' \(2\.6\.\d+\)', '', str(e))
            skips[e] = skips.get(str(e), 0) + 1
            continue
        # records sharing a commit (one fix for two CVEs) would share the
        # generated commits too and see each other's backports
        shas = {x for ln in r['dyad'] for x in (ln['vuln_sha'], ln['fix_sha']) if x != '0'} | set(r['fix_sha'])
        if any(count[c] < a.per_class for c in s['classes']) and shas & used:
            skips['shares a commit with a selected record'] = skips.get('shares a commit with a selected record', 0) + 1
            continue
        # take a record when it adds to a class that still needs records
        if any(count[c] < a.per_class for c in s['classes']):
            used |= shas
            chosen.append(s)
            for c in s['classes']:
                count[c] += 1
        if all(count[c] >= a.per_class for c in CLASSES):
            break
    chosen.sort(key=lambda s: s['id'])
    print('selected %d records: %s' % (len(chosen), ', '.join('%s %d' % (c, count[c]) for c in CLASSES)))
    print('skipped %d records while selecting:' % sum(skips.values()))
    for k, n in sorted(skips.items(), key=lambda kv: -kv[1]):
        print('  %5d  %s' % (n, k))

    # versions
    mvers, svers = set(), {}
    for s in chosen:
        if s['iver']:
            mvers.add(s['iver'])
        mvers.update(s['fixver'].values())
        for st in s['stable']:
            mvers.add(st['series'])
            for v in (st['vv'], st['fv']):
                if sver(v):
                    svers.setdefault(st['series'], set()).add(sver(v)[2])
    mlist = sorted(mvers)

    os.makedirs(a.out, exist_ok=True)
    repo = os.path.join(a.out, 'repo')
    fi = FastImport(repo)
    smap = {}       # real sha -> generated sha
    marks = {}      # real sha -> mark (mainline commits)
    content = {}    # (branch, path) -> text
    tagmark = {}

    def change(branch, path, line):
        key = (branch, path)
        content[key] = content.get(key, '/* %s */\n' % path) + line + '\n'
        return {path: content[key]}

    def path_of(s):
        return 'drivers/cna/%s.c' % s['id'].lower().replace('-', '_')

    isubj = lambda s: 'cna/%s: add the code a later fix corrects' % s['id']
    fsubj = lambda s, i: 'cna/%s: fix #%d' % (s['id'], i) if len(s['fixes']) > 1 else 'cna/%s: fix' % s['id']
    last = None
    for v in mlist:
        events = []
        for s in chosen:
            if s['intro'] and s['iver'] == v:
                events.append((0, s['id'], s, None))
            for i, f in enumerate(s['fixes']):
                if s['fixver'].get(f) == v:
                    events.append((1, s['id'] + '/%d' % i, s, i))
        events.sort(key=lambda e: (e[0], e[1]))
        for kind, _, s, i in events:
            if kind == 0:
                msg = '%s\n\nAdd the code that the CNA record %s is about.\n\nSigned-off-by: A U Thor <author@example.org>\n' % (isubj(s), s['id'])
                last, sha = fi.commit('refs/heads/master', msg, change('master', path_of(s), 'intro'), last)
                smap[s['intro']] = sha
                marks[s['intro']] = (last, msg)
            else:
                f = s['fixes'][i]
                tr = ''
                if s['intro'] and not s['override']:
                    tr = 'Fixes: %s ("%s")\n' % (smap[s['intro']][:12], isubj(s))
                msg = '%s\n\nFix for %s.\n\n%sSigned-off-by: A U Thor <author@example.org>\n' % (fsubj(s, i), s['id'], tr)
                last, sha = fi.commit('refs/heads/master', msg, change('master', path_of(s), 'fix %d' % i), last)
                smap[f] = sha
                marks[f] = (last, msg)
        last, _ = fi.commit('refs/heads/master', 'Linux %s\n' % vstr(v), change('master', 'Makefile', 'VERSION %s' % vstr(v)), last)
        fi.tag('v' + vstr(v), last)
        tagmark[v] = last

    def backport_msg(upsha, upmsg):
        subj, rest = upmsg.split('\n', 1)
        return '%s\n\ncommit %s upstream.\n%s' % (subj, upsha, rest)

    for S in sorted(svers):
        br = 'linux-%s.y' % vstr(S)
        ref = 'refs/heads/' + br
        last = tagmark[S]
        for z in sorted(svers[S]):
            events = []
            for s in chosen:
                for st in s['stable']:
                    if st['series'] != S:
                        continue
                    if st['stable_in'] and sver(st['vv'])[2] == z:
                        events.append((0, s['id'], s, st))
                    if st['fv'] != '0' and sver(st['fv'])[2] == z:
                        events.append((1, s['id'], s, st))
            events.sort(key=lambda e: (e[0], e[1]))
            for kind, _, s, st in events:
                up = s['intro'] if kind == 0 else st['upstream']
                if up is None:   # a branch-only fix named by the record itself
                    msg = 'cna/%s: branch-only fix for %s\n\nSigned-off-by: A U Thor <author@example.org>\n' % (s['id'], br)
                    last, sha = fi.commit(ref, msg, change(br, path_of(s), 'branch fix'), last)
                else:
                    mk, msg = marks[up]
                    last, sha = fi.commit(ref, backport_msg(smap[up], msg),
                                          change(br, path_of(s), 'backport %s' % smap[up][:12]), last)
                smap[st['vs'] if kind == 0 else st['fs']] = sha
            last, _ = fi.commit(ref, 'Linux %s.%d\n' % (vstr(S), z),
                                change(br, 'Makefile', 'VERSION %s.%d' % (vstr(S), z)), last)
            fi.tag('v%s.%d' % (vstr(S), z), last)
    fi.close()

    branches = ['master'] + ['linux-%s.y' % vstr(S) for S in sorted(svers)]
    g = lambda x: '0' if x == '0' else smap[x]
    expected = {}
    for s in chosen:
        year = s['id'].split('-')[1]
        d = os.path.join(a.out, 'vulns', 'cve', 'published', year)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, s['id'] + '.sha1'), 'w') as fh:
            fh.write(''.join(smap[f] + '\n' for f in s['fixes']))
        if s['override']:
            with open(os.path.join(d, s['id'] + '.vulnerable'), 'w') as fh:
                fh.write(smap[s['intro']] + '\n')
        per = {}
        lines = []
        for m in s['mainline']:
            ln = '%s:%s:%s:%s' % (vstr(m[1]) if m[1] else '0', g(m[0]), vstr(m[3]), g(m[2]))
            lines.append(ln)
            per.setdefault('master', []).append(ln)
        for st in s['stable']:
            ln = '%s:%s:%s:%s' % (st['vv'], g(st['vs']), st['fv'], g(st['fs']))
            lines.append(ln)
            per.setdefault('linux-%s.y' % vstr(st['series']), []).append(ln)
        # Extension (doc/internals/affect.md): a tracked branch the record does
        # not name, whose base has the introducer and lacks a fix, is affected
        # and unfixed; dyad only prints the branches it was told about.
        ext = {}
        if s['intro']:
            for S in sorted(svers):
                b = 'linux-%s.y' % vstr(S)
                if b not in per and S >= s['iver'] and any(v > S for v in s['fixver'].values()):
                    ext[b] = ['%s:%s:0:0' % (vstr(s['iver']), smap[s['intro']])]
        expected[s['id']] = {'classes': s['classes'], 'dyad': lines, 'branches': per, 'extension': ext}
    with open(os.path.join(a.out, 'expected.json'), 'w') as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)
    with open(os.path.join(a.out, 'map.json'), 'w') as fh:
        json.dump(smap, fh, indent=1, sort_keys=True)
    with open(os.path.join(a.out, 'branches.txt'), 'w') as fh:
        fh.write(''.join(b + '\n' for b in branches))
    print('repository: %d mainline releases, %d stable branches, %d stable tags' %
          (len(mlist), len(svers), sum(len(z) for z in svers.values())))


if __name__ == '__main__':
    main()
