#!/usr/bin/env python3
"""lore-mails.py DATA.jsonl.gz SKIP COUNT EXPECT.jsonl [COUNT EXPECT OUT]... > mails:
rebuild COUNT lore patch mails (after SKIP records) as raw RFC 5322 mails, NUL
separated, in rotating encodings (8bit, quoted-printable, CRLF, multipart with a
base64 attachment); write the fields each mail must parse to into EXPECT.jsonl.
Each further COUNT EXPECT OUT group takes the next records into the file OUT."""
import base64, datetime, email.utils, gzip, json, quopri, sys

path, skip = sys.argv[1], int(sys.argv[2])
groups = [(int(sys.argv[3]), sys.argv[4], None)]
rest = sys.argv[5:]
while len(rest) >= 3:
    groups.append((int(rest[0]), rest[1], rest[2]))
    rest = rest[3:]
with gzip.open(path, "rt", encoding="utf-8") as f:
  lines = enumerate(f)
  for count, expect, outname in groups:
    out = open(outname, "wb") if outname else sys.stdout.buffer
    ex = open(expect, "w")
    n = 0
    for i, line in lines:
        if i < skip:
            continue
        r = json.loads(line)
        shape = n % 4
        n += 1
        subj = r["subject"]
        if any(ord(c) > 127 for c in subj):
            subj = "=?UTF-8?B?" + base64.b64encode(subj.encode()).decode() + "?="
        date = email.utils.format_datetime(datetime.datetime.fromisoformat(r["date"]))
        head = "From: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\n" % (
            r["author"], subj, date, r["message_id"])
        notes = r["notes"]
        body = r["message"] + "\n---\n" + notes + ("\n" if notes else "") + "\n"
        if shape == 3:
            mail = head + ('Content-Type: multipart/mixed; boundary="------------0123"\n\n'
                           "--------------0123\nContent-Type: text/plain; charset=UTF-8\n"
                           "Content-Transfer-Encoding: 8bit\n\n" + body +
                           "\n--------------0123\nContent-Type: text/x-patch; name=\"0001.patch\"\n"
                           "Content-Disposition: attachment; filename=\"0001.patch\"\n"
                           "Content-Transfer-Encoding: base64\n\n" +
                           base64.encodebytes(r["diff"].encode()).decode() + "\n--------------0123--\n")
        elif shape == 1:
            mail = head + ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
                           quopri.encodestring((body + r["diff"]).encode()).decode() + "-- \n2.43.0\n")
        else:
            mail = head + ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n" +
                           body + r["diff"] + "-- \n2.43.0\n")
        raw = mail.encode()
        if shape == 2:
            raw = raw.replace(b"\n", b"\r\n")
        out.write(raw + b"\0")
        ex.write(json.dumps({"message_id": r["message_id"], "clean_subject": r["clean_subject"],
                             "version": r["patch_version"], "idx": r["series_index"] or 0,
                             "total": r["series_total"] or 0, "rfc": int(r["rfc"]),
                             "files": None if r["diff_truncated"] else len(r["files"])}) + "\n")
        if n >= count:
            break
    ex.close()
    if outname:
        out.close()
