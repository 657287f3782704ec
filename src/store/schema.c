/*
 * schema.c - every table of patchgap, grouped by the module that owns it.
 * See schema_int.h for the migration rules.
 */
#include <stddef.h>
#include "store/schema_int.h"

/*
 * ingest: the model of the git history.
 *  commits        one row per commit ever seen; never deleted. reachable = 0
 *                 once no tracked ref reaches it (force-pushed vendor branch).
 *  commit_files   touched paths, first parent only for merges, no renames.
 *  trailers       parsed trailers/annotations in message order.
 *  relations      upstream / fixes / reverts links, resolved to full ids
 *                 when possible (state resolved|unresolved|ambiguous).
 *  branches       the tracked refs from the config.
 *  branch_commits commits of a stable/vendor branch that are not in its
 *                 base (mainline up to the fork), with the earliest branch
 *                 release tag containing them.  Mainline membership is
 *                 commits.mainline_release / the mainline walk.
 *  tags           release tags, peeled, with their parsed version.
 */
static const char *const ingest_steps[] = {
	"CREATE TABLE commits ("
	"  id INTEGER PRIMARY KEY,"
	"  sha TEXT NOT NULL UNIQUE,"
	"  author TEXT NOT NULL,"
	"  author_email TEXT NOT NULL,"
	"  author_time INTEGER NOT NULL,"
	"  committer_time INTEGER NOT NULL,"
	"  parents TEXT NOT NULL,"
	"  nparents INTEGER NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  files_changed INTEGER NOT NULL DEFAULT 0,"
	"  insertions INTEGER NOT NULL DEFAULT 0,"
	"  deletions INTEGER NOT NULL DEFAULT 0,"
	"  diff_state TEXT NOT NULL DEFAULT 'ok',"
	"  mainline_release TEXT,"
	"  on_mainline INTEGER NOT NULL DEFAULT 0,"
	"  reachable INTEGER NOT NULL DEFAULT 1"
	");"
	"CREATE INDEX commits_subject ON commits(subject);"
	"CREATE TABLE commit_files ("
	"  commit_id INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  added INTEGER NOT NULL DEFAULT 0,"
	"  deleted INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (commit_id, path)"
	");"
	"CREATE INDEX commit_files_path ON commit_files(path);"
	"CREATE TABLE trailers ("
	"  commit_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  raw TEXT NOT NULL,"
	"  value TEXT,"
	"  ref_id TEXT,"
	"  ref_subject TEXT,"
	"  hint TEXT,"
	"  malformed INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (commit_id, seq)"
	");"
	"CREATE INDEX trailers_kind ON trailers(kind, ref_id);"
	"CREATE TABLE relations ("
	"  commit_id INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  ref_id TEXT NOT NULL,"
	"  target_sha TEXT,"
	"  state TEXT NOT NULL,"
	"  candidates TEXT,"
	"  PRIMARY KEY (commit_id, kind, ref_id)"
	");"
	"CREATE INDEX relations_target ON relations(target_sha, kind);"
	"CREATE TABLE branches ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  ref TEXT NOT NULL,"
	"  head_sha TEXT,"
	"  base_tag TEXT,"
	"  base_sha TEXT,"
	"  config_path TEXT"
	");"
	"CREATE TABLE branch_commits ("
	"  branch_id INTEGER NOT NULL,"
	"  commit_id INTEGER NOT NULL,"
	"  release TEXT,"
	"  reachable INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (branch_id, commit_id)"
	");"
	"CREATE INDEX branch_commits_commit ON branch_commits(commit_id);"
	"CREATE TABLE tags ("
	"  name TEXT PRIMARY KEY,"
	"  sha TEXT NOT NULL,"
	"  line TEXT NOT NULL,"
	"  major INTEGER NOT NULL,"
	"  minor INTEGER NOT NULL,"
	"  patch INTEGER NOT NULL,"
	"  rc INTEGER NOT NULL,"
	"  tag_time INTEGER NOT NULL DEFAULT 0"
	");",
	/*
	 * 2: count unreachable commits without scanning the commits table
	 * (messages included: ~3 GB for a kernel history); partial indexes
	 * exist in PostgreSQL too.
	 */
	"CREATE INDEX commits_unreachable ON commits(reachable) WHERE reachable = 0;",
	/* 3: relations still open (pending, unresolved, ambiguous) without a table scan */
	"CREATE INDEX relations_open ON relations(state) WHERE state <> 'resolved';",
	/*
	 * 4: what each tag ref points at (tag object or commit), so that a run
	 * peels only tags that are new or moved; NULL until the next run fills it
	 */
	"ALTER TABLE tags ADD COLUMN target TEXT;",
	/*
	 * 5: no query reads trailers by (kind, ref_id): Fixes and backport
	 * lookups go through relations.  The index cost 2.5 s of a
	 * 291k-commit bulk load and ~8 % of the database.
	 */
	"DROP INDEX IF EXISTS trailers_kind;",
	/*
	 * 6: commits stored without their file list or diffstat (an object was
	 * missing or corrupt), re-read by every run until complete
	 */
	"CREATE INDEX commits_incomplete ON commits(diff_state) WHERE diff_state <> 'ok';",
	NULL
};

/*
 * cve: the kernel CNA's records (src/cve, doc/internals/cve.md).
 *  cves             one row per CVE id; state published|rejected; dates are
 *                   UTC ISO 8601 (NULL when the layout has none: vulns.git);
 *                   content_hash covers every file the record was read from,
 *                   so an unchanged record is never rewritten.
 *  cve_fixes        fixing commits (sha1 = the .sha1 mainline fix, dyad = a
 *                   branch fix from .dyad, json = a git range's lessThan,
 *                   reference = a stable commit URL); one row per sha, the
 *                   first source in that order wins.
 *  cve_introducers  explicit introducers: .vulnerable lines, dyad's
 *                   "Setting original vulnerable kernel" overrides.
 *  cve_ranges       the CNA's per-branch pairs in order: .dyad lines, or the
 *                   JSON git ranges when there is no .dyad ("0" = unknown /
 *                   not fixed; versions NULL when the JSON does not say).
 *  cve_versions     the JSON's non-git affected versions, verbatim.
 *  cve_files        programFiles; cve_references the reference URLs.
 * Shas link to commits.sha at query time (no foreign key: a CVE may name
 * commits that are not ingested yet).
 */
static const char *const cve_steps[] = {
	"CREATE TABLE cves ("
	"  id TEXT PRIMARY KEY,"
	"  year INTEGER NOT NULL,"
	"  num INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  title TEXT,"
	"  description TEXT,"
	"  published TEXT,"
	"  updated TEXT,"
	"  cvss_score REAL,"
	"  cvss_vector TEXT,"
	"  cvss_severity TEXT,"
	"  cvss_version TEXT,"
	"  rejected_reason TEXT,"
	"  dyad_version TEXT,"
	"  layout TEXT NOT NULL,"
	"  source_path TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL"
	");"
	"CREATE INDEX cves_order ON cves(year, num);"
	"CREATE INDEX cves_published ON cves(published);"
	"CREATE TABLE cve_fixes ("
	"  cve_id TEXT NOT NULL,"
	"  sha TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  PRIMARY KEY (cve_id, sha)"
	");"
	"CREATE INDEX cve_fixes_sha ON cve_fixes(sha);"
	"CREATE TABLE cve_introducers ("
	"  cve_id TEXT NOT NULL,"
	"  sha TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  version TEXT,"
	"  PRIMARY KEY (cve_id, sha, source)"
	");"
	"CREATE INDEX cve_introducers_sha ON cve_introducers(sha);"
	"CREATE TABLE cve_ranges ("
	"  cve_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  vuln_version TEXT,"
	"  vuln_sha TEXT NOT NULL,"
	"  fix_version TEXT,"
	"  fix_sha TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  PRIMARY KEY (cve_id, seq)"
	");"
	"CREATE INDEX cve_ranges_vuln ON cve_ranges(vuln_sha);"
	"CREATE INDEX cve_ranges_fix ON cve_ranges(fix_sha);"
	"CREATE TABLE cve_versions ("
	"  cve_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  default_status TEXT,"
	"  version TEXT NOT NULL,"
	"  less_than TEXT,"
	"  less_than_or_equal TEXT,"
	"  status TEXT NOT NULL,"
	"  version_type TEXT,"
	"  PRIMARY KEY (cve_id, seq)"
	");"
	"CREATE TABLE cve_files ("
	"  cve_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY (cve_id, seq)"
	");"
	"CREATE INDEX cve_files_path ON cve_files(path);"
	"CREATE TABLE cve_references ("
	"  cve_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  url TEXT NOT NULL,"
	"  PRIMARY KEY (cve_id, seq)"
	");",
	NULL
};

/*
 * backport: one row per `patchgap backport` run.
 *  backport_runs  the outcome (present|clean|with-deps|conflict), the series
 *                 applied (upstream ids in order, space separated), what was
 *                 created, and the --test result (pass|fail, reason, exit
 *                 status, duration, log tail); conflict_hunks: the
 *                 conflicts left (JSON, as `backport --json` prints them).
 */
static const char *const backport_steps[] = {
	"CREATE TABLE backport_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  fix_sha TEXT NOT NULL,"
	"  onto_ref TEXT NOT NULL,"
	"  onto_sha TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  series TEXT,"
	"  created_ref TEXT,"
	"  result_sha TEXT,"
	"  conflicts INTEGER NOT NULL DEFAULT 0,"
	"  present_how TEXT,"
	"  present_sha TEXT,"
	"  test_cmd TEXT,"
	"  test_result TEXT,"
	"  test_reason TEXT,"
	"  test_exit INTEGER,"
	"  test_duration_ms INTEGER,"
	"  test_log_tail TEXT,"
	"  livepatch TEXT,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX backport_runs_fix ON backport_runs(fix_sha, onto_ref);",
	/* 2: the conflicting hunks of a conflict run, as JSON (ours/base/theirs per hunk), for the fix page */
	"ALTER TABLE backport_runs ADD COLUMN conflict_hunks TEXT;",
	NULL
};

/*
 * advise: the revision ledger of published advisories.
 *  advisories     one row per (document, revision): the content hash of the
 *                 model that revision was generated from, its date (taken
 *                 from the data, not the clock) and a one-line summary.  A
 *                 later run with an unchanged hash reuses the history; a
 *                 changed one appends the next revision.
 */
static const char *const advise_steps[] = {
	"CREATE TABLE advisories ("
	"  doc_id TEXT NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  scope TEXT NOT NULL,"
	"  content_hash TEXT NOT NULL,"
	"  revision_date INTEGER NOT NULL,"
	"  summary TEXT NOT NULL,"
	"  PRIMARY KEY (doc_id, revision)"
	");",
	NULL
};

/*
 * classify: the security-fix classifier's verdict per commit.
 *  classifications  one row per commit, from the latest model that scored it
 *                   (model_version); reasons is the JSON array of priority
 *                   factors.  `patchgap classify` rescores rows whose
 *                   model_version differs from the current model.
 */
static const char *const classify_steps[] = {
	"CREATE TABLE classifications ("
	"  commit_id INTEGER PRIMARY KEY,"
	"  sha TEXT NOT NULL,"
	"  model_version TEXT NOT NULL,"
	"  p_security REAL NOT NULL,"
	"  label INTEGER NOT NULL,"
	"  bug_class TEXT NOT NULL,"
	"  priority REAL NOT NULL,"
	"  level TEXT NOT NULL,"
	"  reasons TEXT NOT NULL,"
	"  classified_at INTEGER NOT NULL"
	");"
	"CREATE INDEX classifications_rank ON classifications(label, priority);"
	"CREATE INDEX classifications_model ON classifications(model_version);",
	NULL
};

/*
 * triage: what people decided, and who may use the API.
 *  decisions  append-only: one row per decision on a CVE or fix commit
 *             (target, normalised) for a branch and optionally a .config
 *             build (config, '' = the whole branch).  The highest id per
 *             (target, branch, config) is in force; rows are never changed.
 *  tokens     API tokens: name, role (reader|triager|admin), SHA-1 of the
 *             secret (the secret itself is never stored).
 */
static const char *const triage_steps[] = {
	"CREATE TABLE decisions ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  justification TEXT,"
	"  note TEXT NOT NULL,"
	"  author TEXT NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX decisions_target ON decisions(target, branch);"
	"CREATE INDEX decisions_branch ON decisions(branch, id);"
	"CREATE TABLE tokens ("
	"  name TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL"
	");",
	NULL
};

/*
 * jobs: the work queue of `patchgap worker` (src/jobs, doc/internals/jobs.md).
 *  jobs         one row per unit of work; job_key is unique (enqueuing the
 *               same work twice is a no-op); state queued|running|done|
 *               parked|cancelled; a running job belongs to worker until
 *               lease_until (epoch seconds), renewed by heartbeats.
 *  job_results  the result of a done job: job_id is the primary key, so a
 *               job retried after its worker died never gets a second one.
 */
static const char *const jobs_steps[] = {
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  job_key TEXT NOT NULL UNIQUE,"
	"  args TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL,"
	"  worker TEXT,"
	"  lease_until INTEGER,"
	"  last_error TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX jobs_claim ON jobs(state, id);"
	"CREATE TABLE job_results ("
	"  job_id INTEGER NOT NULL PRIMARY KEY,"
	"  worker TEXT NOT NULL,"
	"  exit_code INTEGER NOT NULL,"
	"  result TEXT NOT NULL,"
	"  finished_at INTEGER NOT NULL"
	");",
	NULL
};

/*
 * lists: mailing-list archives (src/lists, doc/internals/lists.md).
 *  list_epochs   per list and epoch (v2 git/N.git; v1 = epoch 0) the last
 *                commit read; moved in the transaction that stores its mails.
 *  mails         one row per inbox commit holding a mail (UNIQUE list +
 *                git_commit, so a rerun stores nothing twice).  change_key
 *                = author address + clean subject: the same patch across
 *                versions (b4's rule); series_root = the cover letter or
 *                thread root message id.  Verdict columns are NULL for
 *                mails that are not patches.
 *  mail_files    touched paths of a mail's diff.
 *  mail_trailers trailers of the commit message (replies: review tags).
 *  commit_mails  the mail a commit came from: how = link|patch-id|subject.
 */
static const char *const lists_steps[] = {
	"CREATE TABLE list_epochs ("
	"  list TEXT NOT NULL,"
	"  epoch INTEGER NOT NULL,"
	"  last_commit TEXT NOT NULL,"
	"  mails INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (list, epoch)"
	");"
	"CREATE TABLE mails ("
	"  id INTEGER PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  epoch INTEGER NOT NULL,"
	"  git_commit TEXT NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  in_reply_to TEXT,"
	"  refs TEXT,"
	"  series_root TEXT NOT NULL,"
	"  author TEXT NOT NULL,"
	"  author_email TEXT NOT NULL,"
	"  date INTEGER NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  clean_subject TEXT NOT NULL,"
	"  change_key TEXT NOT NULL,"
	"  prefix TEXT,"
	"  tree TEXT,"
	"  kind TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  total INTEGER NOT NULL,"
	"  rfc INTEGER NOT NULL,"
	"  applied INTEGER NOT NULL DEFAULT 0,"
	"  message TEXT NOT NULL,"
	"  diff TEXT,"
	"  nfiles INTEGER NOT NULL,"
	"  patch_id TEXT,"
	"  flags INTEGER NOT NULL,"
	"  model_version TEXT,"
	"  p_security REAL,"
	"  label INTEGER,"
	"  bug_class TEXT,"
	"  priority REAL,"
	"  level TEXT,"
	"  UNIQUE (list, git_commit)"
	");"
	"CREATE INDEX mails_message_id ON mails(message_id);"
	"CREATE INDEX mails_in_reply_to ON mails(in_reply_to);"
	"CREATE INDEX mails_change ON mails(change_key, version);"
	"CREATE INDEX mails_clean_subject ON mails(clean_subject);"
	"CREATE INDEX mails_patch_id ON mails(patch_id);"
	"CREATE INDEX mails_date ON mails(date);"
	"CREATE TABLE mail_files ("
	"  mail_id INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY (mail_id, path)"
	");"
	"CREATE TABLE mail_trailers ("
	"  mail_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  value TEXT,"
	"  ref_id TEXT,"
	"  PRIMARY KEY (mail_id, seq)"
	");"
	"CREATE TABLE commit_mails ("
	"  sha TEXT PRIMARY KEY,"
	"  mail_id INTEGER NOT NULL,"
	"  how TEXT NOT NULL"
	");"
	"CREATE INDEX commit_mails_mail ON commit_mails(mail_id);",
	NULL
};

/*
 * watch: the outbox of `patchgap watch` (src/watch, doc/internals/watch.md).
 *  events           one row per announced change, written in the same
 *                   transaction as the state change; key is the idempotency
 *                   key (a pure function of the change), payload JSON.
 *                   Other readers (the REST API) rely on these columns.
 *  event_deliveries one row per (sink, event) the sink's filter accepted:
 *                   state pending|delivered, attempts, when the next attempt
 *                   is due, the last error / HTTP status.
 *  watch_sources    per fetched remote and the CNA: last attempt, success,
 *                   error, consecutive failures and the backoff deadline;
 *                   last_sha = the CNA commit whose records are imported.
 *  watch_tips       the branch heads the cells were last evaluated at.
 *  watch_cells      the snapshot (CVE or silent fix) x branch -> state that
 *                   events are computed against; seq counts its changes (part
 *                   of the events' idempotency keys).
 */
static const char *const watch_steps[] = {
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL UNIQUE,"
	"  target TEXT,"
	"  branch TEXT,"
	"  config TEXT,"
	"  old_state TEXT,"
	"  new_state TEXT,"
	"  payload TEXT NOT NULL"
	");"
	"CREATE INDEX events_kind ON events(kind, id);"
	"CREATE TABLE event_deliveries ("
	"  sink TEXT NOT NULL,"
	"  event_id INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  last_status INTEGER,"
	"  delivered_at INTEGER,"
	"  PRIMARY KEY (sink, event_id)"
	");"
	"CREATE INDEX event_deliveries_pending ON event_deliveries(sink, event_id) WHERE state = 'pending';"
	"CREATE TABLE watch_sources ("
	"  name TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  url TEXT,"
	"  last_sha TEXT,"
	"  last_attempt INTEGER,"
	"  last_ok INTEGER,"
	"  last_error TEXT,"
	"  last_ms INTEGER,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE watch_tips ("
	"  branch TEXT PRIMARY KEY,"
	"  head_sha TEXT"
	");"
	"CREATE TABLE watch_cells ("
	"  item TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (item, branch)"
	");"
	"CREATE INDEX watch_cells_branch ON watch_cells(branch);",
	NULL
};

/*
 * affect: stored verdicts of `patchgap cells` (src/affect/cells.c), so the
 * watch daemon and the API read them without recomputing.
 *  cells          one verdict per (known security fix, tracked branch,
 *                 config): `id` is the CVE id, or the fix commit of a silent
 *                 fix (`kind` cve|silent); `config` '' = no build evaluation.
 *                 status affected|fixed|not_affected|unknown as `status`
 *                 reports it, with the inputs: `cve_hash` (cves.content_hash
 *                 it was computed from) and `deps` (the fix and introducer
 *                 commits evaluated, space-separated).
 *  cell_deps      (id, sha) for each commit a target's verdicts depend on:
 *                 what an incremental update looks new commits up in.
 *  cell_branches  per tracked branch, the head and the number of reachable
 *                 branch_commits rows the stored cells are valid for.
 *  The commit high-water mark lives in meta ('affect.cells.commit_hwm').
 */
static const char *const affect_steps[] = {
	"CREATE TABLE cells ("
	"  id TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  introducer_known INTEGER NOT NULL,"
	"  fix TEXT,"
	"  introducer TEXT,"
	"  introducer_how TEXT,"
	"  fixed_by TEXT,"
	"  fix_how TEXT,"
	"  confidence REAL,"
	"  reason TEXT NOT NULL,"
	"  cve_hash TEXT,"
	"  deps TEXT NOT NULL,"
	"  PRIMARY KEY (id, branch, config)"
	");"
	"CREATE INDEX cells_branch ON cells(branch, status);"
	"CREATE TABLE cell_deps ("
	"  id TEXT NOT NULL,"
	"  sha TEXT NOT NULL,"
	"  PRIMARY KEY (id, sha)"
	");"
	"CREATE INDEX cell_deps_sha ON cell_deps(sha);"
	"CREATE TABLE cell_branches ("
	"  branch TEXT PRIMARY KEY,"
	"  head TEXT,"
	"  nrows INTEGER NOT NULL"
	");",
	/*
	 * 2: the config dimension.  A branch with a kernel .config (`kconfig`)
	 * also has one cell per target with config = that path: the verdict
	 * under the build, `justification` the VEX justification of a
	 * not_affected one whose code is not built (code_not_present,
	 * vulnerable_code_not_in_execute_path), `vex` the build verdict as
	 * `status` prints it (JSON), for the affected ones.
	 *  cell_configs  per (branch, config), the head and the .config's
	 *                content hash the config cells were computed at.
	 */
	"ALTER TABLE cells ADD COLUMN justification TEXT;"
	"ALTER TABLE cells ADD COLUMN vex TEXT;"
	"CREATE TABLE cell_configs ("
	"  branch TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  head TEXT NOT NULL,"
	"  config_hash TEXT NOT NULL,"
	"  PRIMARY KEY (branch, config)"
	");",
	/*
	 * 3: status reads a branch's plain cells (src/affect/status.c).  The
	 * table is in target order, so through cells_branch a branch's rows are
	 * fetched one table lookup each, from pages spread over the whole table
	 * (1.5M commits: 23 branches x 81k cells, 4 s of system time); this
	 * index holds every column status reads, in branch order, and serves
	 * every query cells_branch did (branch is its first column).
	 */
	"CREATE INDEX cells_read ON cells(branch, config, id, kind, status, introducer_known, fix, introducer,"
	" introducer_how, fixed_by, fix_how, confidence, reason, cve_hash);"
	"DROP INDEX cells_branch;",
	NULL
};

const struct pg_schema_module pg_store__schema[] = {
	{ "ingest", ingest_steps },
	{ "cve", cve_steps },
	{ "backport", backport_steps },
	{ "advise", advise_steps },
	{ "classify", classify_steps },
	{ "triage", triage_steps },
	{ "jobs", jobs_steps },
	{ "lists", lists_steps },
	{ "watch", watch_steps },
	{ "affect", affect_steps },
	{ NULL, NULL }
};
