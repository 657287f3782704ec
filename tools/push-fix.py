#!/usr/bin/env python3
"""push-fix.py REPO N SUBJECT FIXES_SHA - append N commits to master of the
(bare) repository REPO with git fast-import: N-1 filler commits, then a
security fix of FIXES_SHA (a KASAN use-after-free message with Fixes: and
Cc: stable).  Used by bench/bench-watch.sh and tools/run-demo.sh to play
"upstream pushes a fix"."""
import subprocess, sys, time

repo, n, subject, fixes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = int(time.time())
out = []
for i in range(n):
    last = i == n - 1
    if last:
        msg = ("%s\n\nA KASAN report shows a use-after-free when the device is removed while\n"
               "the work item still runs.  Cancel the work before freeing.\n\n"
               "Fixes: %s (\"bug\")\nCc: stable@vger.kernel.org\n"
               "Signed-off-by: Bench <bench@example.org>\n" % (subject, fixes[:12]))
        path = "drivers/bench/fix.c"
    else:
        msg = "bench: filler commit %d\n\nSigned-off-by: Bench <bench@example.org>\n" % i
        path = "drivers/bench/bench.c"
    body = ("int bench_%d(void) { return %d; }\n" % (i, i)).encode()
    m = msg.encode()
    out.append(b"commit refs/heads/master\n")
    out.append(b"committer Bench <bench@example.org> %d +0000\n" % (t + i))
    out.append(b"data %d\n" % len(m) + m + b"\n")
    if i == 0:
        out.append(b"from refs/heads/master^0\n")
    out.append(b"M 100644 inline %s\n" % path.encode())
    out.append(b"data %d\n" % len(body) + body + b"\n")
subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], input=b"".join(out), check=True)
