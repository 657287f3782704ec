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

const struct pg_schema_module pg_store__schema[] = {
	{ "ingest", ingest_steps },
	{ "classify", classify_steps },
	{ NULL, NULL }
};
