#!/bin/bash
# Diffstat equals `git log --numstat` (first parent, no renames) on edits chosen
# to hit every path of the line counter: pure insertions and deletions at the
# head, tail and middle (counted without xdiff), a missing or added final
# newline, repeated lines, edits that need a real diff, whole-file rewrites,
# added/deleted files and binary files.
. "$(dirname "$0")/lib.sh"

R=$T/repo
git init -q -b master "$R"
cat > "$T/pg.conf" <<CONF
[core]
	repository = $R
	database = $T/pg.db
[branch "master"]
	kind = mainline
CONF
python3 - "$R" <<'PY'
import os, random, subprocess, sys
r = sys.argv[1]
rnd = random.Random(7)
def git(*a): subprocess.run(["git", "-C", r] + list(a), check=True, stdout=subprocess.DEVNULL)
def line(): return rnd.choice(["a", "b", "c", "}", "", "\treturn 0;", "x%d" % rnd.randrange(50)])
files = {}
t = 1600000000
for n in range(120):
    op = rnd.randrange(9)
    name = "f%d.c" % rnd.randrange(8)
    body = files.get(name)
    if body is None or op == 0:
        body = "\n".join(line() for _ in range(rnd.randrange(0, 30))) + rnd.choice(["\n", "", "\n\n"])
    elif op == 1:   # insert lines at the head, tail or middle
        ls = body.split("\n"); i = rnd.choice([0, len(ls), rnd.randrange(len(ls) + 1)])
        ls[i:i] = [line() for _ in range(rnd.randrange(1, 5))]; body = "\n".join(ls)
    elif op == 2:   # delete lines
        ls = body.split("\n"); i = rnd.randrange(len(ls)); del ls[i:i + rnd.randrange(1, 4)]; body = "\n".join(ls)
    elif op == 3:   # toggle the final newline
        body = body[:-1] if body.endswith("\n") else body + "\n"
    elif op == 4:   # replace a line (needs a real diff)
        ls = body.split("\n"); ls[rnd.randrange(len(ls))] = line(); body = "\n".join(ls)
    elif op == 5:   # duplicate a block
        ls = body.split("\n"); i = rnd.randrange(len(ls)); ls[i:i] = ls[i:i + 3]; body = "\n".join(ls)
    elif op == 6 and len(files) > 1:   # delete the file
        os.unlink(os.path.join(r, name)); del files[name]; body = None
    elif op == 7:   # binary
        body = "bin\0" + body
    else:
        body = body + line() + "\n"
    if body is not None:
        with open(os.path.join(r, name), "w") as f: f.write(body)
        files[name] = body
    git("add", "-A")
    t += 60
    env = dict(os.environ, GIT_AUTHOR_DATE="@%d +0000" % t, GIT_COMMITTER_DATE="@%d +0000" % t)
    subprocess.run(["git", "-C", r, "commit", "-q", "--allow-empty", "-m", "change %d" % n], check=True, env=env,
                   stdout=subprocess.DEVNULL)
PY
$PG --conf "$T/pg.conf" ingest >/dev/null || fail "ingest"
# git: binary files show "-", counted as 0 like libgit2 does
g log --no-renames --numstat --format='C %H' master | awk '
	/^C / { c = $2; next } NF == 3 { a = $1 == "-" ? 0 : $1; d = $2 == "-" ? 0 : $2; print c, $3, a, d }' |
	sort > "$T/git.txt"
sqlite3 "$T/pg.db" "SELECT c.sha, f.path, f.added, f.deleted FROM commit_files f JOIN commits c ON c.id = f.commit_id" |
	tr '|' ' ' | sort > "$T/pg.txt"
check "some files were compared" test "$(wc -l < "$T/git.txt")" -gt 100
check "per-file line counts equal git log --numstat" cmp -s "$T/git.txt" "$T/pg.txt"
diff "$T/git.txt" "$T/pg.txt" | head -5
finish
