#!/usr/bin/env python3
"""pi-write.py GITDIR < mails: append mails to a public-inbox v2 epoch the way
public-inbox's V2Writable does: one commit per mail on refs/heads/master whose
tree is the single blob "m" (the raw mail), author from the From: header and
date from Date:, committer the inbox address, commit message the subject.
Mails on stdin are separated by NUL bytes.  Creates the bare epoch if needed."""
import email.utils, os, re, subprocess, sys

gitdir = sys.argv[1]
if not os.path.isdir(gitdir):
    subprocess.run(["git", "init", "-q", "--bare", gitdir], check=True)
has = subprocess.run(["git", "--git-dir", gitdir, "rev-parse", "-q", "--verify", "refs/heads/master"],
                     capture_output=True).returncode == 0
raw = sys.stdin.buffer.read()
mails = [m for m in raw.split(b"\0") if m.strip()]
out = []
def header(m, name):
    h = m.split(b"\n\n", 1)[0].replace(b"\r", b"")
    mo = re.search(rb"(?im)^" + name + rb":[ \t]*(.*(?:\n[ \t].*)*)", h)
    return mo.group(1).replace(b"\n", b"").decode("utf-8", "replace").strip() if mo else ""
for i, m in enumerate(mails):
    name, addr = email.utils.parseaddr(header(m, b"From"))
    name = re.sub(r"[<>\n]", "", name) or "unknown"
    addr = re.sub(r"[<>\s]", "", addr) or "unknown@example.org"
    try:
        t = int(email.utils.parsedate_to_datetime(header(m, b"Date")).timestamp())
    except Exception:
        t = 0
    subj = (header(m, b"Subject") or "(no subject)").encode("utf-8", "replace")[:200] + b"\n"
    out.append(b"commit refs/heads/master\n")
    out.append(b"author %s <%s> %d +0000\n" % (name.encode("utf-8", "replace"), addr.encode(), t))
    out.append(b"committer test <test@example.com> %d +0000\n" % t)
    out.append(b"data %d\n%s" % (len(subj), subj))
    if i == 0 and has:
        out.append(b"from refs/heads/master^0\n")
    out.append(b"deleteall\nM 100644 inline m\ndata %d\n%s\n" % (len(m), m))
subprocess.run(["git", "--git-dir", gitdir, "fast-import", "--quiet"], input=b"".join(out), check=True)
