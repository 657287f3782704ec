#!/usr/bin/env python3
"""openapi-check.py SPEC URL READER TRIAGER TARGET BRANCH FIX - validate the real
answers of `patchgap serve` against doc/openapi.json (OpenAPI 3.1, JSON Schema
2020-12).  Checks the document itself (version, every schema valid, every $ref
resolvable), then sends requests covering every path and documented status,
and validates each answer's status, Content-Type and body against the schema
the document gives for that path, method and status.  Prints 'ok - ...' lines.
"""
import http.client
import json
import sys
import urllib.parse

import jsonschema

spec_path, url, reader, triager, target, branch, fix = sys.argv[1:8]
spec = json.load(open(spec_path))
u = urllib.parse.urlsplit(url)
nfail = 0


def check(desc, cond, extra=''):
    global nfail
    print(('ok - ' if cond else 'not ok - ') + desc + ('' if cond else ' ' + extra))
    if not cond:
        nfail += 1


check('OpenAPI 3.1 document', spec.get('openapi', '').startswith('3.1.'))
V = jsonschema.Draft202012Validator
resolver = jsonschema.RefResolver.from_schema(spec)


def walk(node):
    if isinstance(node, dict):
        if '$ref' in node:
            try:
                resolver.resolve(node['$ref'])
            except Exception as e:  # noqa: BLE001
                check('$ref %s resolves' % node['$ref'], False, str(e))
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)


walk(spec)
for name, s in spec['components']['schemas'].items():
    try:
        V.check_schema(s)
    except jsonschema.SchemaError as e:
        check('schema %s is valid JSON Schema 2020-12' % name, False, e.message)
covered = set()


def request(method, path, token=None, body=None):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    if token:
        headers['Authorization'] = 'Bearer ' + token
    if body is not None:
        headers['Content-Type'] = 'application/json'
        body = json.dumps(body)
    conn.request(method, '/api/v1' + path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheader('Content-Type') or '', data


def validate(method, template, path, status, token=None, body=None):
    got, ctype, data = request(method, path, token, body)
    desc = '%s %s -> %d' % (method, path, status)
    if got != status:
        return check(desc, False, 'got %d: %s' % (got, data[:300]))
    op = spec['paths'][template][method.lower()]
    resp = op['responses'].get(str(status))
    if resp is None:
        return check(desc + ' is documented', False)
    if '$ref' in resp:
        resp = resolver.resolve(resp['$ref'])[1]
    media = ctype.split(';')[0].strip()
    content = resp.get('content', {})
    if media not in content:
        return check(desc + ' content type %s documented' % media, False)
    covered.add((template, method.lower(), str(status)))
    inst = json.loads(data) if media == 'application/json' else data.decode()
    try:
        V(content[media]['schema'], resolver=resolver).validate(inst)
        check(desc + ' matches the schema', True)
    except jsonschema.ValidationError as e:
        check(desc + ' matches the schema', False, '%s at %s' % (e.message[:300], list(e.absolute_path)))
    return inst


q = urllib.parse.quote
validate('GET', '/branches', '/branches', 200, reader)
validate('GET', '/branches', '/branches', 401)
validate('GET', '/branches/{name}/status', '/branches/%s/status' % q(branch), 200, reader)
validate('GET', '/branches/{name}/status', '/branches/%s/status?all=1' % q(branch), 200, reader)
validate('GET', '/branches/{name}/status', '/branches/%s/status?all=2' % q(branch), 400, reader)
validate('GET', '/branches/{name}/status', '/branches/nope/status', 404, reader)
validate('GET', '/cves', '/cves?state=published&q=frob&page=1', 200, reader)
validate('GET', '/cves', '/cves?priority=high&branch=%s' % q(branch), 200, reader)
validate('GET', '/cves', '/cves?state=gone', 400, reader)
validate('GET', '/cves/{id}', '/cves/' + target, 200, reader)
validate('GET', '/cves/{id}', '/cves/' + fix[:12], 200, reader)
validate('GET', '/cves/{id}', '/cves/CVE-2001-0001', 404, reader)
validate('GET', '/commits/{sha}', '/commits/' + fix, 200, reader)
validate('GET', '/commits/{sha}', '/commits/nothex', 400, reader)
validate('GET', '/commits/{sha}', '/commits/abcdef', 404, reader)
validate('GET', '/report', '/report', 200, reader)
validate('GET', '/report', '/report?branch=nope', 400, reader)
validate('GET', '/events', '/events?after=0', 200, reader)
validate('GET', '/events', '/events?after=x', 400, reader)
for f in ['openvex', 'csaf', 'osv', 'cve5', 'text']:
    validate('GET', '/advisories/{id}', '/advisories/%s?format=%s&branch=%s' % (target, f, q(branch)), 200, reader)
validate('GET', '/advisories/{id}', '/advisories/%s?format=doc' % target, 400, reader)
validate('GET', '/advisories/{id}', '/advisories/CVE-2001-0001', 404, reader)
good = {'target': target, 'branch': branch, 'state': 'not_affected', 'justification': 'vulnerable_code_not_present',
        'note': 'the driver is not built for this product'}
V(spec['components']['schemas']['DecisionRequest'], resolver=resolver).validate(good)
validate('POST', '/decisions', '/decisions', 201, triager, good)
validate('POST', '/decisions', '/decisions', 201, triager, dict(good, state='will_not_fix', justification=None))
validate('POST', '/decisions', '/decisions', 400, triager, dict(good, colour='red'))
validate('POST', '/decisions', '/decisions', 401, None, good)
validate('POST', '/decisions', '/decisions', 403, reader, good)
validate('POST', '/decisions', '/decisions', 413, triager, dict(good, note='x' * 70000))
h = validate('GET', '/decisions', '/decisions?target=' + target, 200, reader)
check('history: two decisions, oldest first', isinstance(h, list) and [d['state'] for d in h] == ['not_affected', 'will_not_fix'])
validate('GET', '/decisions', '/decisions', 400, reader)
validate('GET', '/decisions', '/decisions?target=CVE-2001-0001', 404, reader)
f = validate('GET', '/cves/{id}', '/cves/' + target, 200, reader)
check('fix: the latest decision is in force', f['branches'][branch]['state'] == 'will_not_fix')
for template, ops in spec['paths'].items():
    for m, op in ops.items():
        check('%s %s exercised' % (m.upper(), template), any(c[0] == template and c[1] == m for c in covered))
sys.exit(1 if nfail else 0)
