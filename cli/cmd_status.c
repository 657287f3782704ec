/*
 * cmd_status.c - `patchgap status <branch|commit>`: open security fixes of a
 * tree, with reasons; a --fail-on policy turns it into a CI gate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "patchgap/affect.h"
#include "patchgap/triage.h"
#include "util/json.h"
#include "util/str.h"
#include "util/banned.h"

static const char usage[] =
	"usage: patchgap status [<branch|revision>...] [--all] [--config FILE | --no-config]\n"
	"                       [--fail-on POLICY] [--recompute] [--json]\n"
	"\n"
	"A target is a tracked branch, or any revision of the repository: a tag\n"
	"(v6.1.5, a vendor tag), revision syntax (linux-6.1.y~3, 'git describe'\n"
	"output) or a commit id; it is evaluated on the tracked branch that contains it\n"
	"(JSON: \"commit\", \"contained_in\").\n"
	"Without a target: every tracked branch, in one process.\n"
	"Lists every known security fix (imported CVEs, and silent fixes that\n"
	"'patchgap classify' flagged; a merge is never one) whose bug is present in the\n"
	"branch head or commit and whose fix is not, with the reasons: which introducer\n"
	"(or which backport of it) is present; for fixes found, how (annotation, same\n"
	"subject and files) and with what confidence.  Works for vendor commits whose ids\n"
	"are not upstream's.  A fix with no introducer known is open wherever it is absent\n"
	"(the CNA's convention: every release before the fix is affected), marked\n"
	"\"introducer_known\": false.  --all also lists the fixes that are present.\n"
	"\n"
	"--config FILE (default: the branch's 'kconfig' from the config file) evaluates\n"
	"each open fix's diff against the tree's Kbuild files and #if blocks under that\n"
	"kernel .config: fixes whose code is not compiled are listed separately as\n"
	"not affected, with the VEX justification and the evidence.  --no-config\n"
	"ignores a configured .config.\n"
	"\n"
	"A tracked branch's head is read from the verdicts 'patchgap cells' stored\n"
	"when they are provably current (nothing ingested, imported or classified\n"
	"since that changes them, the same .config); otherwise, and with --recompute\n"
	"always, every verdict is computed.  The output is the same either way.\n"
	"\n"
	"POLICY is a comma-separated list of conditions that must all hold for one open\n"
	"fix:  any | age>DAYS | severity>=low|medium|high|critical\n"
	"      | priority>=low|medium|high|urgent (the classifier's level; else from CVSS)\n"
	"e.g. --fail-on 'severity>=high,age>30'.  Age counts from the fix's upstream\n"
	"commit date to the newest ingested commit.\n"
	"\n"
	"Exit status: 0 ok (no policy match), 1 error, 2 usage, 3 unknown branch/commit,\n"
	"4 bad input, 5 the --fail-on policy matched at least one open fix.\n";

static int sev_rank(const char *s)
{
	static const char *const names[] = { "none", "low", "medium", "high", "critical" };
	for (int i = 0; s && i < 5; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

static int prio_rank(const char *s)
{
	static const char *const names[] = { "low", "medium", "high", "urgent" };
	for (int i = 0; s && i < 4; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

/* The classifier's level, else one derived from the CVSS severity. */
static int entry_prio(json_t *e)
{
	int r = prio_rank(json_string_value(json_object_get(e, "priority_level")));
	if (r < 0) {
		int sv = sev_rank(json_string_value(json_object_get(e, "severity")));
		r = sv < 0 ? -1 : sv == 0 ? 0 : sv - 1;
	}
	return r;
}

struct cond { int kind; long n; }; /* 0 any, 1 age>, 2 severity>=, 3 priority>= */

static int parse_policy(struct cond *c, size_t *n, const char *p)
{
	char buf[256], *save = NULL, *tok;
	*n = 0;
	snprintf(buf, sizeof(buf), "%s", p);
	for (tok = strtok_r(buf, ",", &save); tok && *n < 8; tok = strtok_r(NULL, ",", &save)) {
		tok = pg_str_trim(tok);
		if (!strcmp(tok, "any"))
			c[(*n)++] = (struct cond){ 0, 0 };
		else if (!strncmp(tok, "age>", 4) && tok[4] >= '0' && tok[4] <= '9') {
			char *end;
			long days = strtol(tok + 4, &end, 10);
			if (*end || days > 1000000)
				return pg_error_setc(PG_EINVALID, "--fail-on: '%.40s' wants a number of days", tok);
			c[(*n)++] = (struct cond){ 1, days };
		}
		else if (!strncmp(tok, "severity>=", 10) && sev_rank(tok + 10) >= 0)
			c[(*n)++] = (struct cond){ 2, sev_rank(tok + 10) };
		else if (!strncmp(tok, "priority>=", 10) && prio_rank(tok + 10) >= 0)
			c[(*n)++] = (struct cond){ 3, prio_rank(tok + 10) };
		else
			return pg_error_setc(PG_EINVALID, "--fail-on: cannot understand '%s'", tok);
	}
	return *n ? 0 : pg_error_setc(PG_EINVALID, "--fail-on: empty policy");
}

static int matches(const struct cond *c, size_t n, json_t *e)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].kind == 1 && json_integer_value(json_object_get(e, "age_days")) <= c[i].n)
			return 0;
		if (c[i].kind == 2 && sev_rank(json_string_value(json_object_get(e, "severity"))) < c[i].n)
			return 0;
		if (c[i].kind == 3 && entry_prio(e) < c[i].n)
			return 0;
	}
	return 1;
}

/* Print one target's result as text. */
static void print_text(json_t *o, const char *target)
{
	json_t *e;
	size_t i;
	printf("%s (branch %s, base %s): %zu open (%lld with no introducer known), %zu unknown",
	       target, json_string_value(json_object_get(o, "branch")),
	       json_string_value(json_object_get(o, "base")) ? json_string_value(json_object_get(o, "base")) : "-",
	       json_array_size(json_object_get(o, "unfixed")),
	       (long long)json_integer_value(json_object_get(json_object_get(o, "counts"), "introducer_unknown")),
	       json_array_size(json_object_get(o, "unknown")));
	if (json_array_size(json_object_get(o, "decided")))
		printf(", %zu decided", json_array_size(json_object_get(o, "decided")));
	if (json_object_get(o, "not_affected_by_config"))
		printf(", %zu not built under %s", json_array_size(json_object_get(o, "not_affected_by_config")),
		       json_string_value(json_object_get(o, "config")));
	putchar('\n');
	json_array_foreach(json_object_get(o, "unfixed"), i, e) {
		printf("OPEN  %-16.16s %.12s %-8s %4lldd  %s\n      %s\n", json_string_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "fix")),
		       json_string_value(json_object_get(e, "priority_level")) ? json_string_value(json_object_get(e, "priority_level")) :
		       json_string_value(json_object_get(e, "severity")) ? json_string_value(json_object_get(e, "severity")) : "-",
		       (long long)json_integer_value(json_object_get(e, "age_days")),
		       pg_cli_safe(json_string_value(json_object_get(e, "subject"))), json_string_value(json_object_get(e, "reason")));
		if (json_object_get(e, "decided"))
			printf("      %s\n", pg_cli_safe(json_string_value(json_object_get(e, "decided"))));
	}
	json_array_foreach(json_object_get(o, "not_affected_by_config"), i, e)
		printf("NOT BUILT %-12s %.12s %s: %s\n", json_string_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "fix")),
		       json_string_value(json_object_get(json_object_get(e, "vex"), "justification")),
		       pg_cli_safe(json_string_value(json_object_get(e, "subject"))));
	json_array_foreach(json_object_get(o, "decided"), i, e)
		printf("DECIDED %-14.14s %.12s %s (engine: %s)\n        %s\n", json_string_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "fix")),
		       json_string_value(json_object_get(json_object_get(e, "decision"), "state")),
		       json_string_value(json_object_get(e, "engine")), pg_cli_safe(json_string_value(json_object_get(e, "decided"))));
	json_array_foreach(json_object_get(o, "fixed"), i, e)
		printf("FIXED %-16s %.12s by %.12s (%s)\n", json_string_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "fix")), json_string_value(json_object_get(e, "fixed_by")),
		       json_string_value(json_object_get(e, "fix_how")));
}

PG_CMD(status)
{
	struct pg_opt opts[] = { { "json", 0, NULL, 0 }, { "all", 0, NULL, 0 }, { "fail-on", 1, NULL, 0 },
				 { "config", 1, NULL, 0 }, { "no-config", 0, NULL, 0 }, { "recompute", 0, NULL, 0 },
				 { NULL, 0, NULL, 0 } };
	const char **args;
	int nargs, rc, error;
	pg_config *cfg = NULL;
	pg_store *store = NULL;
	pg_affect_index *ix = NULL;
	pg_status_options so = PG_STATUS_OPTIONS_INIT;
	struct cond conds[8];
	size_t nconds = 0, hits = 0, i;
	json_t *results = json_array(), *e;
	const char **targets = NULL;
	int ntargets = 0;

	if ((rc = pg_cli_parse(cli, argc, argv, opts, &args, &nargs, usage)) >= 0)
		goto done;
	if (pg_opt_get(opts, "fail-on") && parse_policy(conds, &nconds, pg_opt_get(opts, "fail-on")) < 0) {
		pg_cli_error(cli, "%s", pg_error_last());
		rc = PG_EXIT_USAGE;
		goto done;
	}
	/*
	 * The repository is needed only for commits that are not branch heads,
	 * so only the default ./patchgap.conf may be absent; a config named by
	 * --conf or PATCHGAP_CONFIG, or one that exists, must load.
	 */
	if (pg_config_load(&cfg, cli->conf_path) == 0)
		so.repository = cfg->repository;
	else if (strcmp(cli->conf_path, "patchgap.conf") || access(cli->conf_path, F_OK) == 0) {
		rc = pg_cli_load_config(&cfg, cli);
		goto done;
	}
	if (nargs) {
		targets = args;
		ntargets = nargs;
	} else if (cfg && (targets = calloc(cfg->nbranches + 1, sizeof(char *)))) {
		/* no target: every tracked branch, in one process (views and CVEs resolved once) */
		for (size_t b = 0; b < cfg->nbranches; b++)
			targets[ntargets++] = cfg->branches[b].name;
	} else {
		pg_cli_error(cli, "no branch or commit given and no config to list the tracked branches (see --help)");
		rc = PG_EXIT_USAGE;
		goto done;
	}
	so.include_fixed = pg_opt_get(opts, "all") != NULL;
	so.no_kconfig = pg_opt_get(opts, "no-config") != NULL;
	so.recompute = pg_opt_get(opts, "recompute") != NULL;
	if ((rc = pg_cli_open_store(&store, cli, PG_STORE_READONLY)) > 0)
		goto done;
	if ((error = pg_affect_index_open(&ix, store)) < 0) {
		rc = pg_cli_fail(cli, error);
		goto done;
	}
	rc = PG_EXIT_OK;
	for (int t = 0; t < ntargets; t++) {
		json_t *o = NULL;
		so.kconfig = pg_opt_get(opts, "config");
		if (!so.kconfig && cfg && pg_config_branch(cfg, targets[t]))
			so.kconfig = pg_config_branch(cfg, targets[t])->kconfig; /* the config file wins over the last ingest */
		if ((error = pg_affect_status(&o, ix, targets[t], &so)) < 0 ||
		    (error = pg_triage_apply_status(o, store)) < 0) {
			rc = pg_cli_fail(cli, error);
			goto done;
		}
		size_t before = hits;
		json_array_foreach(json_object_get(o, "unfixed"), i, e)
			if (nconds && matches(conds, nconds, e))
				hits++;
		if (nconds)
			pg_json_set(o, "policy_matches", json_integer((json_int_t)(hits - before)));
		if (!cli->json) {
			if (t)
				putchar('\n');
			print_text(o, targets[t]);
		}
		json_array_append_new(results, o);
	}
	if (cli->json)
		pg_json_print(stdout, nargs == 1 ? json_array_get(results, 0) : results, 2);
	else if (nconds)
		printf("policy '%s': %zu open fixes match\n", pg_opt_get(opts, "fail-on"), hits);
	rc = hits ? PG_EXIT_POLICY : PG_EXIT_OK;
done:
	if (targets != args)
		free(targets);
	json_decref(results);
	pg_affect_index_free(ix);
	pg_store_free(store);
	pg_config_free(cfg);
	return rc;
}
