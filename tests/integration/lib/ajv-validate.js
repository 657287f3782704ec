// ajv-validate.js - validate many advisory documents against the official
// schemas in one Node process (the ajv-cli equivalent of
// ../shared/schemas/README.md, without paying Node's start-up per file).
//
//   node ajv-validate.js AJV_NODE_MODULES SCHEMAS_DIR KIND=FILE...
// KIND is osv, cve5, csaf or openvex; prefix it with '!' to require that the
// file is INVALID (negative control).  Prints "FILE valid|invalid" per file
// and exits 1 if any expectation fails.
'use strict';
const fs = require('fs');
const path = require('path');
const [nm, dir, ...jobs] = process.argv.slice(2);
const Ajv7 = require(path.join(nm, 'ajv')).default;
const Ajv2020 = require(path.join(nm, 'ajv/dist/2020')).default;
const addFormats = require(path.join(nm, 'ajv-formats')).default;
const load = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const mk = (Cls) => { const a = new Cls({ strict: false, allErrors: false, logger: false }); addFormats(a); return a; };

const a20 = mk(Ajv2020);
const a7 = mk(Ajv7);
for (const v of ['2.0', '3.0', '3.1'])
  a20.addSchema(load(`csaf-2.0/ajv-compat/cvss-v${v}.json`));
const validators = {
  osv: a20.compile(load('osv/schema.json')),
  csaf: a20.compile(load('csaf-2.0/json_schema/csaf_json_schema.json')),
  openvex: a20.compile(load('openvex/openvex_json_schema.json')),
  cve5: a7.compile(load('cve5/CVE_Record_Format_bundled-5.1.1.json')),
};
let bad = 0;
for (const job of jobs) {
  const eq = job.indexOf('=');
  let kind = job.slice(0, eq);
  const file = job.slice(eq + 1);
  const negate = kind.startsWith('!');
  if (negate) kind = kind.slice(1);
  const v = validators[kind];
  if (!v) { console.log(`${file}: unknown kind ${kind}`); bad++; continue; }
  let ok;
  try { ok = v(JSON.parse(fs.readFileSync(file, 'utf8'))); } catch (e) { ok = false; v.errors = [String(e)]; }
  console.log(`${file} ${ok ? 'valid' : 'invalid'}${negate ? ' (expected invalid)' : ''}`);
  if (ok === negate) {
    bad++;
    if (!ok) console.log(JSON.stringify(v.errors, null, 1).slice(0, 3000));
  }
}
process.exit(bad ? 1 : 0);
