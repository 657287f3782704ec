#!/usr/bin/env python3
"""A webhook receiver for the watch tests: checks X-Patchgap-Signature
(HMAC-SHA256 of the body under SECRET) and appends one JSON line per request
to OUT: {t (arrival), key, kind, sig_ok, mode, body}.  The file MODE (re-read per request) says
how to answer: ok (204), fail (500) or hang (sleep 30 s).  Writes the port to
PORTFILE once listening on 127.0.0.1."""
import hashlib, hmac, http.server, json, os, sys, time

portfile, secret, out, modefile = sys.argv[1:5]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n)
        mode = open(modefile).read().strip() if os.path.exists(modefile) else 'ok'
        want = 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        rec = {'t': time.time(), 'key': self.headers.get('X-Patchgap-Delivery'), 'kind': self.headers.get('X-Patchgap-Event'),
               'sig_ok': hmac.compare_digest(want, self.headers.get('X-Patchgap-Signature', '')),
               'mode': mode, 'body': body.decode()}
        with open(out, 'a') as f:
            f.write(json.dumps(rec) + '\n')
        if mode == 'hang':
            time.sleep(30)
        code = 500 if mode == 'fail' else 204
        self.send_response(code)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + '.tmp', portfile)
srv.daemon_threads = True
srv.serve_forever()
