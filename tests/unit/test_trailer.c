/*
 * Unit tests for src/ingest/trailer.c: hand-written edge cases, the real
 * lore / PatchDB messages of ../shared/data (skipped when absent), and the
 * libFuzzer entry point run over a fixed junk corpus.
 */
#include <regex.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <zlib.h>
#include "harness.h"
#include "patchgap/trailer.h"
#include "util/jsonl.h"
#include "../../fuzz/fuzz_trailer.c"

static pg_trailers T;

/* Parse a NUL-terminated message into T (released first). */
static int parse(const char *msg)
{
	pg_trailers_release(&T);
	return pg_trailers_parse(&T, msg, strlen(msg));
}

/* The i-th trailer of a kind, or NULL. */
static const pg_trailer *nth(pg_trailer_kind k, size_t i)
{
	for (size_t j = 0; j < T.n; j++)
		if (T.v[j].kind == k && i-- == 0)
			return &T.v[j];
	return NULL;
}

static int nstr_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* One trailer's fields; NULL expected strings mean "must be NULL". */
#define EXPECT(kind, idx, line_, ref, subj, hint_, malf) do { \
	const pg_trailer *x_ = nth(kind, idx); \
	CHECK(x_ != NULL); \
	if (x_) { \
		CHECK_INT(x_->line, line_); \
		CHECK_INT(x_->malformed, malf); \
		if (!nstr_eq(x_->ref_id, ref) || !nstr_eq(x_->ref_subject, subj) || !nstr_eq(x_->hint, hint_)) { \
			fprintf(stderr, "  %s:%d: got ref_id=%s ref_subject=%s hint=%s\n", __FILE__, __LINE__, \
				x_->ref_id ? x_->ref_id : "(null)", x_->ref_subject ? x_->ref_subject : "(null)", \
				x_->hint ? x_->hint : "(null)"); \
			h_cur_failed = 1; \
		} \
	} \
} while (0)

#define COUNT(kind) pg_trailers_count(&T, kind)

TEST(fixes_basic)
{
	CHECK_OK(parse("Body text.\n\nFixes: 6044eeffafbe (\"ipvs: attempt to schedule icmp packets\")\n"
		       "Signed-off-by: A <a@b.c>\n"));
	CHECK_INT(T.n, 2);
	EXPECT(PG_TR_FIXES, 0, 3, "6044eeffafbe", "ipvs: attempt to schedule icmp packets", NULL, 0);
	CHECK_STR(T.v[0].key, "Fixes");
	CHECK_STR(T.v[0].raw, "Fixes: 6044eeffafbe (\"ipvs: attempt to schedule icmp packets\")");
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 4, NULL, NULL, NULL, 0);
	CHECK_STR(T.v[1].value, "A <a@b.c>");
}

TEST(fixes_no_subject)
{
	CHECK_OK(parse("x\n\nFixes: 6044eeffafbe\nSigned-off-by: A <a@b.c>"));
	EXPECT(PG_TR_FIXES, 0, 3, "6044eeffafbe", NULL, NULL, 0);
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 1);
}

TEST(fixes_case_and_id_lowercased)
{
	CHECK_OK(parse("x\n\nfixes: 6044EEFFAFBE (\"Foo\")\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "6044eeffafbe", "Foo", NULL, 0);
	CHECK_STR(T.v[0].key, "fixes");
}

TEST(fixes_space_before_colon)
{
	CHECK_OK(parse("x\n\nFixes :  1234abcd5678   (\"a: b\")\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "a: b", NULL, 0);
	CHECK_STR(T.v[0].key, "Fixes");
}

TEST(fixes_commit_prefix)
{
	CHECK_OK(parse("x\n\nFixes: commit 1234abcd5678 (\"foo (bar) baz\")\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "foo (bar) baz", NULL, 0);
}

TEST(fixes_wrapped_subject)
{
	CHECK_OK(parse("x\n\nFixes: 6044eeffafbe (\"ipvs: attempt to schedule\n  icmp packets\")\n"
		       "Signed-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "6044eeffafbe", "ipvs: attempt to schedule icmp packets", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
	CHECK_INT(T.n, 2);
}

TEST(fixes_wrapped_at_column0_with_colon)
{
	/* the continuation looks like "Key: value" but belongs to the subject */
	CHECK_OK(parse("x\n\nFixes: 1234abcd5678 (\"netfilter: nf_tables: fix a very long\n"
		       "nf_tables: subject line\")\nCc: stable@vger.kernel.org\nSigned-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678",
	       "netfilter: nf_tables: fix a very long nf_tables: subject line", NULL, 0);
	CHECK_INT(COUNT(PG_TR_OTHER), 0);
	EXPECT(PG_TR_CC_STABLE, 0, 5, NULL, NULL, NULL, 0);
}

TEST(fixes_subject_on_next_line)
{
	CHECK_OK(parse("x\n\nFixes: f8f32deda31df597614d9f1f64ffb0c0320f4d54\n(\"netfilter: foo\")\n"
		       "Signed-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "f8f32deda31df597614d9f1f64ffb0c0320f4d54", "netfilter: foo", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
}

TEST(fixes_unclosed_subject_stops_at_known_key)
{
	CHECK_OK(parse("x\n\nFixes: 1234abcd5678 (\"foo\nSigned-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "foo", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 4, NULL, NULL, NULL, 0);
}

TEST(fixes_several)
{
	CHECK_OK(parse("x\n\nFixes: 3583240249ef (\"a\")\nFixes: 7f85f914721f (\"b\")\n"
		       "Fixes: 0123456789abcdef0123456789abcdef01234567\nSigned-off-by: A"));
	CHECK_INT(COUNT(PG_TR_FIXES), 3);
	EXPECT(PG_TR_FIXES, 0, 3, "3583240249ef", "a", NULL, 0);
	EXPECT(PG_TR_FIXES, 1, 4, "7f85f914721f", "b", NULL, 0);
	EXPECT(PG_TR_FIXES, 2, 5, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
}

TEST(fixes_short_id_malformed)
{
	CHECK_OK(parse("x\n\nFixes: 1234abc (\"foo\")\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, NULL, NULL, "commit id shorter than 8 hex digits (7)", 1);
}

TEST(fixes_version_malformed)
{
	CHECK_OK(parse("x\n\nFixes: v5.10\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, NULL, NULL, "not a commit id: 'v5.10'", 1);
	CHECK_STR(nth(PG_TR_FIXES, 0)->value, "v5.10");
}

TEST(fixes_url_and_garbage_malformed)
{
	CHECK_OK(parse("x\n\nFixes: https://bugzilla.netfilter.org/show_bug.cgi?id=1446\n"
		       "Fixes: kopanocore-8.7.81\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, NULL, NULL, "not a commit id: 'https://bugzilla.netfilter.org/show_bug.'", 1);
	EXPECT(PG_TR_FIXES, 1, 4, NULL, NULL, "not a commit id: 'kopanocore-8.7.81'", 1);
}

TEST(fixes_long_and_empty_malformed)
{
	CHECK_OK(parse("x\n\nFixes: 0123456789abcdef0123456789abcdef0123456789abcdef\nFixes:\n"
		       "Signed-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, NULL, NULL, "commit id longer than 40 hex digits", 1);
	EXPECT(PG_TR_FIXES, 1, 4, NULL, NULL, "no commit id after 'Fixes:'", 1);
}

TEST(fixes_hex_prefix_of_word_malformed)
{
	/* "deadbeefcafe-foo" is not an id: the hex run is followed by more word */
	CHECK_OK(parse("x\n\nFixes: deadbeefcafez (\"x\")\nSigned-off-by: A"));
	CHECK_INT(nth(PG_TR_FIXES, 0)->malformed, 1);
	CHECK(nth(PG_TR_FIXES, 0)->ref_id == NULL);
}

TEST(fixes_single_quotes_and_bare_parens)
{
	CHECK_OK(parse("x\n\nFixes: d535c8a69c19 'netfilter: conntrack: udp: only extend'\n"
		       "Fixes: cb7e02f4 (src: enable json echo output when reading native\nsyntax)\n"
		       "Signed-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "d535c8a69c19", "netfilter: conntrack: udp: only extend", NULL, 0);
	EXPECT(PG_TR_FIXES, 1, 4, "cb7e02f4", "src: enable json echo output when reading native syntax", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 6, NULL, NULL, NULL, 0);
}

TEST(fixes_id_inside_quotes_or_parens)
{
	CHECK_OK(parse("x\n\nFixes: (72cfb0f20c75 ASoC: rockchip: Use codec of_node)\n"
		       "Fixes: (\"61c1db7fae21 ipv6: sit: add GSO/TSO support\")\n"
		       "Fixes: 'c7e490fc23eb (\"Drivers: hv: fcopy: convert\")'\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "72cfb0f20c75", "ASoC: rockchip: Use codec of_node", NULL, 0);
	EXPECT(PG_TR_FIXES, 1, 4, "61c1db7fae21", "ipv6: sit: add GSO/TSO support", NULL, 0);
	EXPECT(PG_TR_FIXES, 2, 5, "c7e490fc23eb", "Drivers: hv: fcopy: convert", NULL, 0);
}

TEST(fixes_missing_colon)
{
	/* understood, but flagged: the id and subject are still returned */
	CHECK_OK(parse("x\n\nFixes: 8bb69f3b2918 (\"a\")\nFixes ff4bf2f42a40 (\"b: c\")\nSigned-off-by: A"));
	CHECK_INT(COUNT(PG_TR_FIXES), 2);
	EXPECT(PG_TR_FIXES, 0, 3, "8bb69f3b2918", "a", NULL, 0);
	EXPECT(PG_TR_FIXES, 1, 4, "ff4bf2f42a40", "b: c", "missing ':' after 'Fixes'", 1);
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 1);
}

TEST(stray_line_and_changelog_in_block)
{
	CHECK_OK(parse("Body.\n\nCc: stable@vger.kernel.org\nFixes: 80765597bc587 (\"tracing: x\")\n"
		       "bugzilla url: https://bugzilla.kernel.org/show_bug.cgi?id=200019\n"
		       "Signed-off-by: A\nv2: Remove statements\nSigned-off-by: B\n"));
	EXPECT(PG_TR_CC_STABLE, 0, 3, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_FIXES, 0, 4, "80765597bc587", "tracing: x", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 6, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 1, 8, NULL, NULL, NULL, 0);
	CHECK_INT(T.n, 4);
	/* two text lines in a row end the run */
	CHECK_OK(parse("Body.\n\nFixes: 80765597bc587\nsome prose\nmore prose\nSigned-off-by: A\n"));
	CHECK_INT(COUNT(PG_TR_FIXES), 0);
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 1);
}

TEST(divider_and_signature)
{
	CHECK_OK(parse("Body.\n\nFixes: 1e5b2471bcc4 (\"x\")\nSigned-off-by: A\n\n------------\n\n"
		       "v1 -> v2 changes\n- Add flow_teardown flag\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1e5b2471bcc4", "x", NULL, 0);
	CHECK_INT(T.n, 2);
	CHECK_OK(parse("Body.\n\nFixes: 3a6820f2bb8a (\"x\")\nSigned-off-by: A\n\n--\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "3a6820f2bb8a", "x", NULL, 0);
	/* a block after the divider wins */
	CHECK_OK(parse("Body.\n\nFixes: 3a6820f2bb8a\n---\nSigned-off-by: B\n"));
	CHECK_INT(COUNT(PG_TR_FIXES), 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
}

TEST(short_tail_after_signoffs)
{
	CHECK_OK(parse("Body.\n\nFixes: 1234abcd5678 (\"x\")\nSigned-off-by: A\n\nConflicts:\n\tfs/io_uring.c\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "x", NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 4, NULL, NULL, NULL, 0);
	CHECK_INT(T.n, 2);
	/* without a sign-off, a Fixes: paragraph followed by prose is quoted text */
	CHECK_OK(parse("The old commit said:\n\nFixes: 1234abcd5678 (\"x\")\n\nwhich was wrong.\n"));
	CHECK_INT(T.n, 0);
	/* four lines of text after the sign-offs: no trailer block */
	CHECK_OK(parse("Body.\n\nSigned-off-by: A\n\nfour\nlines\nof\ntext\n"));
	CHECK_INT(T.n, 0);
}

TEST(fixes_subject_with_inner_quotes)
{
	CHECK_OK(parse("x\n\nFixes: 1234abcd5678 (\"Revert \"net: foo\"\")\nSigned-off-by: A"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "Revert \"net: foo\"", NULL, 0);
}

TEST(quoted_oops_fixes_not_a_trailer)
{
	CHECK_OK(parse("The splat:\n\n  Fixes: deadbeefdeadbeef (\"quoted\")\n"
		       "> Fixes: 1234abcd5678 (\"mail quote\")\n  RIP: 0010:foo+0x1/0x2\n\n"
		       "Signed-off-by: A <a@b>\n"));
	CHECK_INT(COUNT(PG_TR_FIXES), 0);
	CHECK_INT(COUNT(PG_TR_OTHER), 0);
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 1);
}

TEST(fixes_in_body_paragraph_not_a_trailer)
{
	CHECK_OK(parse("I did not add a\nFixes: tag does not point to real bug origin, but is old\n"
		       "enough to cover all stable versions.\n\nSigned-off-by: A\n"));
	CHECK_INT(COUNT(PG_TR_FIXES), 0);
	CHECK_INT(T.n, 1);
}

TEST(body_key_lines_before_block_ignored)
{
	CHECK_OK(parse("Note: this is prose.\nRIP: 0010:foo\n\nMore prose.\n\nSigned-off-by: A\n"));
	CHECK_INT(T.n, 1);
	CHECK_INT(COUNT(PG_TR_OTHER), 0);
}

TEST(block_split_by_blank_line)
{
	CHECK_OK(parse("Body.\n\nFixes: 1234abcd5678 (\"x\")\nReported-by: R <r@x>\n\nSigned-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "x", NULL, 0);
	EXPECT(PG_TR_REPORTED_BY, 0, 4, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 6, NULL, NULL, NULL, 0);
}

TEST(block_glued_to_body_text)
{
	CHECK_OK(parse("Body text ends here.\nFixes: 1234abcd5678 (\"x\")\nSigned-off-by: A\n"));
	EXPECT(PG_TR_FIXES, 0, 2, "1234abcd5678", "x", NULL, 0);
	CHECK_INT(T.n, 2);
}

TEST(block_with_notes_and_comments)
{
	CHECK_OK(parse("commit 0123456789abcdef0123456789abcdef01234567 upstream.\n\nBody.\n\n"
		       "Fixes: 1234abcd5678 (\"x\")\nSigned-off-by: A\n"
		       "[ sasha: adjusted context\n  for 5.10 ]\n# comment: not a trailer\n"
		       "Signed-off-by: Sasha Levin <sashal@kernel.org>\n"));
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 2);
	EXPECT(PG_TR_SIGNED_OFF_BY, 1, 10, NULL, NULL, NULL, 0);
	CHECK_INT(COUNT(PG_TR_OTHER), 0);
	EXPECT(PG_TR_UPSTREAM, 0, 1, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
}

TEST(url_line_in_block_is_not_a_key)
{
	CHECK_OK(parse("Body.\n\nLink: https://lore.kernel.org/r/1\nhttps://example.org/x\n"
		       "Signed-off-by: A\n"));
	EXPECT(PG_TR_LINK, 0, 3, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_LINK, 0)->value, "https://lore.kernel.org/r/1");
	CHECK_INT(COUNT(PG_TR_OTHER), 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
}

TEST(continuation_line_joined)
{
	CHECK_OK(parse("Body.\n\nCc: a@b.c,\n    d@e.f\nSigned-off-by: A\n"));
	EXPECT(PG_TR_CC, 0, 3, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_CC, 0)->value, "a@b.c, d@e.f");
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
}

TEST(cc_stable_forms)
{
	CHECK_OK(parse("Body.\n\nCc: stable@vger.kernel.org\nCc: stable@vger.kernel.org # 5.10.x\n"
		       "Cc: <stable@vger.kernel.org> # v6.1+\nCc: stable@kernel.org\n"
		       "Cc: stable <stable@vger.kernel.org>\nCC: Stable@Vger.Kernel.Org\t#\t4.4.x-\n"
		       "Signed-off-by: A"));
	CHECK_INT(COUNT(PG_TR_CC_STABLE), 6);
	CHECK_INT(COUNT(PG_TR_CC), 0);
	EXPECT(PG_TR_CC_STABLE, 0, 3, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_CC_STABLE, 1, 4, NULL, NULL, "5.10.x", 0);
	EXPECT(PG_TR_CC_STABLE, 2, 5, NULL, NULL, "v6.1+", 0);
	EXPECT(PG_TR_CC_STABLE, 3, 6, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_CC_STABLE, 4, 7, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_CC_STABLE, 5, 8, NULL, NULL, "4.4.x-", 0);
}

TEST(cc_stable_prerequisite)
{
	CHECK_OK(parse("Body.\n\nCc: stable@vger.kernel.org # 4.19.x: 1234ABCD: prereq\nSigned-off-by: A"));
	EXPECT(PG_TR_CC_STABLE, 0, 3, "1234abcd", NULL, "4.19.x: 1234ABCD: prereq", 0);
}

TEST(cc_stable_bracket_hint)
{
	CHECK_OK(parse("Body.\n\nCc: <stable@vger.kernel.org> [5.10+]\nSigned-off-by: A"));
	EXPECT(PG_TR_CC_STABLE, 0, 3, NULL, NULL, "[5.10+]", 0);
}

TEST(cc_plain)
{
	CHECK_OK(parse("Body.\n\nCc: Florian Westphal <fw@strlen.de>\nCc: stable-team@example.org\n"
		       "Signed-off-by: A"));
	CHECK_INT(COUNT(PG_TR_CC), 2);
	CHECK_INT(COUNT(PG_TR_CC_STABLE), 0);
	EXPECT(PG_TR_CC, 0, 3, NULL, NULL, NULL, 0);
}

TEST(reported_by)
{
	CHECK_OK(parse("Body.\n\nReported-by: syzbot+0123@syzkaller.appspotmail.com\n"
		       "Reported-and-tested-by: bot@SYZKALLER.example\nReported-by: Jane <j@x.org>\n"
		       "Signed-off-by: A"));
	CHECK_INT(COUNT(PG_TR_REPORTED_BY), 3);
	EXPECT(PG_TR_REPORTED_BY, 0, 3, NULL, NULL, "syzbot", 0);
	EXPECT(PG_TR_REPORTED_BY, 1, 4, NULL, NULL, "syzbot", 0);
	EXPECT(PG_TR_REPORTED_BY, 2, 5, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_REPORTED_BY, 1)->key, "Reported-and-tested-by");
}

TEST(closes_and_link)
{
	CHECK_OK(parse("Body.\n\nCloses: https://bugzilla.kernel.org/show_bug.cgi?id=1\n"
		       "Link: https://lore.kernel.org/r/20240101.1@x\nSigned-off-by: A"));
	EXPECT(PG_TR_CLOSES, 0, 3, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_CLOSES, 0)->value, "https://bugzilla.kernel.org/show_bug.cgi?id=1");
	EXPECT(PG_TR_LINK, 0, 4, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_LINK, 0)->value, "https://lore.kernel.org/r/20240101.1@x");
}

TEST(people_trailers)
{
	CHECK_OK(parse("Body.\n\nSuggested-by: S\nCo-developed-by: C\nSigned-off-by: C\nTested-by: T\n"
		       "Acked-by: K\nReviewed-by: R\nsigned-off-by: lower\n"));
	EXPECT(PG_TR_SUGGESTED_BY, 0, 3, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_CO_DEVELOPED_BY, 0, 4, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 0, 5, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_TESTED_BY, 0, 6, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_ACKED_BY, 0, 7, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_REVIEWED_BY, 0, 8, NULL, NULL, NULL, 0);
	EXPECT(PG_TR_SIGNED_OFF_BY, 1, 9, NULL, NULL, NULL, 0);
	CHECK_INT(T.n, 7);
}

TEST(other_trailer)
{
	CHECK_OK(parse("Body.\n\nFoo-Bar: baz qux\nMessage-Id: <x@y>\nSigned-off-by: A"));
	EXPECT(PG_TR_OTHER, 0, 3, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_OTHER, 0)->key, "Foo-Bar");
	CHECK_STR(nth(PG_TR_OTHER, 0)->value, "baz qux");
	CHECK_INT(COUNT(PG_TR_OTHER), 2);
}

TEST(unknown_keys_only_is_not_a_block)
{
	/* a final paragraph of unknown "Key: value" lines is prose, not trailers */
	CHECK_OK(parse("Body.\n\nRIP: 0010:foo\nCode: 0f 0b\n"));
	CHECK_INT(T.n, 0);
}

TEST(upstream_greg)
{
	CHECK_OK(parse("commit 0261EA1BD1EB0DA5C0792A9119B8655CF33C80A3 upstream.\n\nBody.\n\nSigned-off-by: A"));
	EXPECT(PG_TR_UPSTREAM, 0, 1, "0261ea1bd1eb0da5c0792a9119b8655cf33c80a3", NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_UPSTREAM, 0)->key, "upstream");
	CHECK_OK(parse("Commit 0261ea1bd1eb upstream\n"));
	EXPECT(PG_TR_UPSTREAM, 0, 1, "0261ea1bd1eb", NULL, NULL, 0);
}

TEST(upstream_sasha_and_bracket)
{
	CHECK_OK(parse("[ Upstream commit 0261ea1bd1eb0da5c0792a9119b8655cf33c80a3 ]\n\nBody.\n"
		       "[upstream commit 1111111122222222 ]\n[ 3333333344444444 ]\n[Upstream commit abcdef0123456789]\n"));
	CHECK_INT(COUNT(PG_TR_UPSTREAM), 4);
	EXPECT(PG_TR_UPSTREAM, 0, 1, "0261ea1bd1eb0da5c0792a9119b8655cf33c80a3", NULL, NULL, 0);
	EXPECT(PG_TR_UPSTREAM, 1, 4, "1111111122222222", NULL, NULL, 0);
	EXPECT(PG_TR_UPSTREAM, 2, 5, "3333333344444444", NULL, NULL, 0);
	EXPECT(PG_TR_UPSTREAM, 3, 6, "abcdef0123456789", NULL, NULL, 0);
}

TEST(upstream_nbsp)
{
	CHECK_OK(parse("commit 0261ea1bd1eb0da5c0792a9119b8655cf33c80a3\xc2\xa0upstream.\n"));
	EXPECT(PG_TR_UPSTREAM, 0, 1, "0261ea1bd1eb0da5c0792a9119b8655cf33c80a3", NULL, NULL, 0);
}

TEST(stack_trace_brackets_are_not_upstream)
{
	CHECK_OK(parse("Oops:\n[ffff8003fff3f8d0] hash_net4_kadt at ffff0000033c0164 [ip_set_hash_net]\n"
		       "[  123.456789] BUG: foo\n[ deadbee ]\ncommit 1234abcd5678 is upstream and fine\n"));
	CHECK_INT(COUNT(PG_TR_UPSTREAM), 0);
}

TEST(cherry_pick)
{
	CHECK_OK(parse("Body.\n\nSigned-off-by: A\n(cherry picked from commit 0123456789ABCDEF0123456789abcdef01234567)\n"
		       "(cherry picked from commit 1234abcd5678 from tree foo)\nSigned-off-by: B\n"));
	CHECK_INT(COUNT(PG_TR_CHERRY_PICK), 2);
	EXPECT(PG_TR_CHERRY_PICK, 0, 4, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
	EXPECT(PG_TR_CHERRY_PICK, 1, 5, "1234abcd5678", NULL, NULL, 0);
	/* the note does not break the trailer block */
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 2);
}

TEST(revert)
{
	CHECK_OK(parse("This reverts commit 0123456789ABCDEF0123456789abcdef01234567.\n\nSigned-off-by: A"));
	EXPECT(PG_TR_REVERT, 0, 1, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
	CHECK_OK(parse("Why.\n\nThis reverts commit\n0123456789abcdef0123456789abcdef01234567.\n"));
	EXPECT(PG_TR_REVERT, 0, 3, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_REVERT, 0)->value, "This reverts commit 0123456789abcdef0123456789abcdef01234567.");
	CHECK_OK(parse("This reverts\ncommit 1234abcd5678 because\n"));
	EXPECT(PG_TR_REVERT, 0, 1, "1234abcd5678", NULL, NULL, 0);
	CHECK_OK(parse("This reverts the change.\ncommit 1234abcd5678\n"));
	CHECK_INT(COUNT(PG_TR_REVERT), 0);
}

TEST(depends_on)
{
	CHECK_OK(parse("Depends-on: https://lore.kernel.org/r/x\nBody.\n\n"
		       "Stable-dep-of: abcdef012345 (\"net: fix: thing\")\n"
		       "Prerequisite-patch-id: 0123456789abcdef0123456789abcdef01234567\nSigned-off-by: A"));
	CHECK_INT(COUNT(PG_TR_DEPENDS_ON), 3);
	EXPECT(PG_TR_DEPENDS_ON, 0, 1, NULL, NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_DEPENDS_ON, 0)->value, "https://lore.kernel.org/r/x");
	EXPECT(PG_TR_DEPENDS_ON, 1, 4, "abcdef012345", "net: fix: thing", NULL, 0);
	EXPECT(PG_TR_DEPENDS_ON, 2, 5, "0123456789abcdef0123456789abcdef01234567", NULL, NULL, 0);
	CHECK_STR(nth(PG_TR_DEPENDS_ON, 1)->key, "Stable-dep-of");
}

TEST(cve_ids)
{
	CHECK_OK(parse("Fixes CVE-2021-1234 (cve-2021-1234, CVE-2021-01234).\nNot: XCVE-2020-1111,\n"
		       "CVE-2020-123 CVE-20-1234 CVE-2019-12345x.\n\nCVE-2024-26581\nSigned-off-by: A"));
	CHECK_INT(COUNT(PG_TR_CVE), 3);
	CHECK_STR(nth(PG_TR_CVE, 0)->value, "CVE-2021-1234");
	CHECK_INT(nth(PG_TR_CVE, 0)->line, 1);
	CHECK_STR(nth(PG_TR_CVE, 1)->value, "CVE-2021-01234");
	CHECK_STR(nth(PG_TR_CVE, 2)->value, "CVE-2024-26581");
	CHECK_INT(nth(PG_TR_CVE, 2)->line, 5);
	CHECK_STR(nth(PG_TR_CVE, 2)->key, "cve");
	CHECK_INT(COUNT(PG_TR_SIGNED_OFF_BY), 1);
}

TEST(crlf_and_trailing_space)
{
	CHECK_OK(parse("Body.\r\n\r\nFixes: 1234abcd5678 (\"x\")  \r\nCc: stable@vger.kernel.org # 5.4.x \r\n"
		       "Signed-off-by: A\r\n"));
	EXPECT(PG_TR_FIXES, 0, 3, "1234abcd5678", "x", NULL, 0);
	EXPECT(PG_TR_CC_STABLE, 0, 4, NULL, NULL, "5.4.x", 0);
	CHECK_STR(nth(PG_TR_SIGNED_OFF_BY, 0)->value, "A");
}

TEST(empty_and_null)
{
	pg_trailers t = PG_TRAILERS_INIT;
	CHECK_OK(pg_trailers_parse(&t, NULL, 0));
	CHECK_OK(pg_trailers_parse(&t, "", 0));
	CHECK_OK(pg_trailers_parse(&t, "\n\n\n", 3));
	CHECK_INT(t.n, 0);
	CHECK_INT(pg_trailers_parse(&t, NULL, 5), PG_EINVALID);
	pg_trailers_release(&t);
}

TEST(nul_bytes_and_unterminated)
{
	static const char msg[] = "Body\0with NUL.\n\nFixes: 1234abcd5678 (\"a\0b\")\nSigned-off-by: A\0B";
	char *copy = malloc(sizeof(msg) - 1);
	pg_trailers t = PG_TRAILERS_INIT;

	/* exact-size heap copy: ASan catches any read past the end */
	memcpy(copy, msg, sizeof(msg) - 1);
	CHECK_OK(pg_trailers_parse(&t, copy, sizeof(msg) - 1));
	CHECK_INT(pg_trailers_count(&t, PG_TR_FIXES), 1);
	CHECK_INT(pg_trailers_count(&t, PG_TR_SIGNED_OFF_BY), 1);
	CHECK_STR(t.v[0].ref_id, "1234abcd5678");
	CHECK_STR(t.v[0].ref_subject, "a b"); /* a NUL reads as a space */
	CHECK_INT(t.v[1].line, 4);
	pg_trailers_release(&t);
	/* a prefix that cuts "Signed-off-by" in the middle */
	CHECK_OK(pg_trailers_parse(&t, copy, sizeof(msg) - 1 - 12));
	CHECK_INT(pg_trailers_count(&t, PG_TR_SIGNED_OFF_BY), 0);
	pg_trailers_release(&t);
	free(copy);
}

TEST(too_large_rejected)
{
	size_t n = (size_t)20 << 20;
	char *big = malloc(n);
	pg_trailers t = PG_TRAILERS_INIT;

	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, 'a', n);
	CHECK_INT(pg_trailers_parse(&t, big, n), PG_EINVALID);
	CHECK(strstr(pg_error_last(), "limit") != NULL);
	CHECK_INT(t.n, 0);
	CHECK_INT(fuzz_trailer_one((const uint8_t *)big, n), PG_EINVALID);
	free(big);
}

TEST(appends_to_out)
{
	pg_trailers t = PG_TRAILERS_INIT;
	const char *m = "x\n\nFixes: 1234abcd5678\nSigned-off-by: A";
	CHECK_OK(pg_trailers_parse(&t, m, strlen(m)));
	CHECK_OK(pg_trailers_parse(&t, m, strlen(m)));
	CHECK_INT(t.n, 4);
	CHECK_INT(pg_trailers_count(&t, PG_TR_FIXES), 2);
	pg_trailers_release(&t);
	CHECK(t.v == NULL && t.n == 0);
	pg_trailers_release(&t);
}

TEST(kind_names)
{
	CHECK_STR(pg_trailer_kind_name(PG_TR_FIXES), "fixes");
	CHECK_STR(pg_trailer_kind_name(PG_TR_CC_STABLE), "cc_stable");
	CHECK_STR(pg_trailer_kind_name(PG_TR_CO_DEVELOPED_BY), "co_developed_by");
	CHECK_STR(pg_trailer_kind_name(PG_TR_OTHER), "other");
	CHECK_STR(pg_trailer_kind_name(PG_TR__COUNT), "unknown");
}

TEST(message_split)
{
	const char *m = "\n\nnetfilter: fix\n  a thing\n\n\nBody line.\n";
	const char *s, *b;
	size_t sl, bl;
	char *j = NULL;

	CHECK_OK(pg_message_split(m, strlen(m), &s, &sl, &b, &bl));
	CHECK(s == m + 2);
	CHECK_INT(sl, strlen("netfilter: fix\n  a thing"));
	CHECK_STR(b, "Body line.\n");
	CHECK_INT(bl, strlen("Body line.\n"));
	CHECK_OK(pg_message_subject(&j, m, strlen(m)));
	CHECK_STR(j, "netfilter: fix a thing");
	free(j);
	CHECK_OK(pg_message_subject(&j, "only subject", 12));
	CHECK_STR(j, "only subject");
	free(j);
	CHECK_OK(pg_message_split("", 0, &s, &sl, &b, &bl));
	CHECK_INT(sl, 0);
	CHECK_INT(bl, 0);
}

TEST(many_trailers_capped)
{
	/* a hostile message: 50k trailer lines and 50k distinct CVE ids */
	size_t n = 50000, len = 0;
	char *m = malloc(n * 40 + 64);
	pg_trailers t = PG_TRAILERS_INIT;

	CHECK(m != NULL);
	if (!m)
		return;
	len += (size_t)snprintf(m, 64, "Body.\n\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(m + len, 40, "Cc: CVE-2024-%zu\n", 100000 + i);
	CHECK_OK(pg_trailers_parse(&t, m, len));
	CHECK(t.n > 1000 && t.n <= 10000);
	CHECK_INT(pg_trailers_count(&t, PG_TR_CVE), 1024);
	pg_trailers_release(&t);
	free(m);
}

/* ---- util/jsonl: the reader the real-data tests and ingest use ---- */

static void write_gz(const char *path, const char *data, size_t len)
{
	gzFile gz = gzopen(path, "wb");
	CHECK(gz != NULL);
	if (gz) {
		CHECK(gzwrite(gz, data, (unsigned)len) == (int)len);
		gzclose(gz);
	}
}

TEST(jsonl_reader)
{
	char dir[] = "/tmp/pg-jsonl-XXXXXX", path[256];
	pg_jsonl *r = NULL;
	json_t *rec = NULL;
	const char *line;
	size_t len, big = 200000;
	char *data;

	CHECK(mkdtemp(dir) != NULL);
	/* gzip, blank lines skipped, a line longer than the read chunk, no final newline */
	data = malloc(big + 128);
	if (!data)
		return;
	len = (size_t)snprintf(data, 128, "{\"a\": 1}\n\n  \n{\"b\": \"");
	memset(data + len, 'x', big);
	len += big;
	len += (size_t)snprintf(data + len, 128, "\"}\n{\"c\": 3}");
	snprintf(path, sizeof(path), "%s/t.jsonl.gz", dir);
	write_gz(path, data, len);
	CHECK_OK(pg_jsonl_open(&r, path, 0));
	CHECK_INT(pg_jsonl_next(r, &rec), 1);
	CHECK_INT(json_integer_value(json_object_get(rec, "a")), 1);
	json_decref(rec);
	CHECK_INT(pg_jsonl_next(r, &rec), 1);
	CHECK_INT(strlen(json_string_value(json_object_get(rec, "b"))), big);
	CHECK_INT(pg_jsonl_lineno(r), 4);
	json_decref(rec);
	CHECK_INT(pg_jsonl_next_line(r, &line, &len), 1);
	CHECK_STR(line, "{\"c\": 3}");
	CHECK_INT(pg_jsonl_next(r, &rec), 0);
	pg_jsonl_free(r);
	remove(path);

	/* plain text works too; a bad line is named by path and number */
	snprintf(path, sizeof(path), "%s/bad.jsonl", dir);
	{
		FILE *f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs("{\"ok\": true}\n[1, 2]\n{broken\n", f);
			fclose(f);
		}
	}
	CHECK_OK(pg_jsonl_open(&r, path, 0));
	CHECK_INT(pg_jsonl_next(r, &rec), 1);
	json_decref(rec);
	CHECK_INT(pg_jsonl_next(r, &rec), PG_EINVALID);
	CHECK(strstr(pg_error_last(), "bad.jsonl:2: record is not a JSON object") != NULL);
	CHECK_INT(pg_jsonl_next(r, &rec), PG_EINVALID);
	CHECK(strstr(pg_error_last(), "bad.jsonl:3: invalid JSON") != NULL);
	pg_jsonl_free(r);
	/* a line over the limit */
	CHECK_OK(pg_jsonl_open(&r, path, 4));
	CHECK_INT(pg_jsonl_next(r, &rec), PG_EINVALID);
	CHECK(strstr(pg_error_last(), "bad.jsonl:1") != NULL);
	pg_jsonl_free(r);
	remove(path);
	rmdir(dir);

	CHECK_INT(pg_jsonl_open(&r, "/nonexistent/x.jsonl.gz", 0), PG_ENOTFOUND);
	CHECK(strstr(pg_error_last(), "cannot open '/nonexistent/x.jsonl.gz'") != NULL);
	CHECK(r == NULL);
	free(data);
}

/* ---- real data ---- */

static int has_fixes_line(const regex_t *re, const char *msg)
{
	return regexec(re, msg, 0, NULL, 0) == 0;
}

/* 1 if the json array `ids` and the upstream annotations of t hold the same ids. */
static int same_ids(json_t *ids, const pg_trailers *t)
{
	size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		int found = 0;
		for (size_t j = 0; id && j < t->n; j++)
			if (t->v[j].kind == PG_TR_UPSTREAM && !strcasecmp(t->v[j].ref_id, id))
				found = 1;
		if (!found)
			return 0;
	}
	for (size_t j = 0; j < t->n; j++) {
		int found = 0;
		if (t->v[j].kind != PG_TR_UPSTREAM)
			continue;
		for (size_t i = 0; i < n; i++) {
			const char *id = json_string_value(json_array_get(ids, i));
			if (id && !strcasecmp(t->v[j].ref_id, id))
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

typedef struct {
	size_t records, with_regex, with_parsed, agree, fixes_trailers, malformed, upstream_agree;
} real_stats;

static void run_file(const char *name, real_stats *st, int check_upstream)
{
	char path[4096];
	pg_jsonl *r = NULL;
	json_t *rec;
	regex_t re;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", SHARED_DATA, name);
	memset(st, 0, sizeof(*st));
	/* independent check: a line starting "Fixes:" followed by 8+ hex digits */
	CHECK(regcomp(&re, "^[Ff][Ii][Xx][Ee][Ss][ \t]*:[ \t]*([Cc]ommit[ \t]+)?[0-9a-fA-F]{8,40}([^0-9a-zA-Z_]|$)",
		      REG_EXTENDED | REG_NEWLINE | REG_NOSUB) == 0);
	CHECK_OK(pg_jsonl_open(&r, path, 0));
	while (r && (rc = pg_jsonl_next(r, &rec)) > 0) {
		const char *msg = json_string_value(json_object_get(rec, "message"));
		pg_trailers t = PG_TRAILERS_INIT;
		size_t fixes = 0;

		if (!msg)
			msg = "";
		st->records++;
		CHECK_OK(pg_trailers_parse(&t, msg, strlen(msg)));
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].kind == PG_TR_FIXES) {
				st->fixes_trailers++;
				st->malformed += (size_t)t.v[i].malformed;
				fixes += !t.v[i].malformed;
			}
		int rx = has_fixes_line(&re, msg);
		st->with_regex += (size_t)rx;
		st->with_parsed += fixes > 0;
		st->agree += (size_t)(rx == (fixes > 0));
		if (check_upstream)
			st->upstream_agree += (size_t)same_ids(json_object_get(rec, "upstream_commit"), &t);
		pg_trailers_release(&t);
		json_decref(rec);
	}
	CHECK(rc == 0);
	pg_jsonl_free(r);
	regfree(&re);
	/* speed: see bench/bench_trailer */
	printf("# %s: %zu records; Fixes: regex %zu records, parser %zu records, "
	       "agreement %.2f %% (%zu Fixes trailers, %zu malformed)",
	       name, st->records, st->with_regex,
	       st->with_parsed, 100.0 * st->agree / (st->records ? st->records : 1), st->fixes_trailers,
	       st->malformed);
	if (check_upstream)
		printf("; upstream ids equal in %.2f %%", 100.0 * st->upstream_agree / (st->records ? st->records : 1));
	printf("\n");
}

TEST(real_lore)
{
	real_stats st;
	SKIP_WITHOUT_SHARED();
	run_file("lore-patches.jsonl.gz", &st, 1);
	CHECK(st.records > 20000);
	CHECK(st.upstream_agree >= st.records * 99 / 100);
	CHECK(st.agree >= st.records * 99 / 100);
	CHECK(st.with_parsed > 1000);
}

TEST(real_patchdb)
{
	real_stats st;
	SKIP_WITHOUT_SHARED();
	run_file("patchdb-linux.jsonl.gz", &st, 0);
	CHECK(st.records > 7000);
	CHECK(st.agree >= st.records * 98 / 100);
	CHECK(st.with_parsed > 500);
}

/* ---- junk corpus through the fuzz entry point ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

TEST(fuzz_corpus)
{
	static const char *const tokens[] = {
		"Fixes: ", "fixes :", "(\"", "\")", "(", ")", "\"", "'", "\n", "\n\n", " ", "\t", "\r\n",
		"commit ", " upstream.", "[ Upstream commit ", " ]", "[ ", "]", "(cherry picked from commit ",
		"This reverts", " commit ", "CVE-2021-", "cve-", "Cc: stable@vger.kernel.org", " # ", "5.10.x",
		": ", "Signed-off-by: A", "Reported-by: syzbot", "Link: https://x", "Depends-on: ",
		"Stable-dep-of: ", "Prerequisite-patch-id: ", "1234abcd", "0123456789abcdef0123456789abcdef01234567",
		"\xc2\xa0", "\xc2", "\xff\xfe", "\0", "#", "Key-x:", "deadbeef", "-", "https://",
	};
	const size_t nt = sizeof(tokens) / sizeof(*tokens);
	uint8_t *buf = malloc(1 << 16);
	const char *sample = "commit 0123456789abcdef0123456789abcdef01234567 upstream.\n\n"
			     "This reverts commit 1234abcd5678. CVE-2024-1234\n\n"
			     "Fixes: 1234abcd5678 (\"netfilter: a long\nsubject\")\n"
			     "Cc: stable@vger.kernel.org # 4.19.x: 1234abcd: prereq\n[ note ]\n"
			     "Signed-off-by: A <a@b>\n(cherry picked from commit 1234abcd5678)\n";
	size_t slen = strlen(sample);

	if (!buf)
		return;
	/* inputs libFuzzer found (regressions) */
	{
		static const char crash1[] = /* a Fixes: subject made of NUL bytes */
			"Fixes: bf4737fb0c52(\042\000\000a\020\0009\264\374tRK\012--\012)\012Sygned-off-bunkP"
			"hil Sut\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377"
			"\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377"
			"\377\377\377\377\377\377\377ter <phi\377ter <phil@nwl.cc>";
		uint8_t *c = malloc(sizeof(crash1) - 1);
		memcpy(c, crash1, sizeof(crash1) - 1);
		CHECK_INT(fuzz_trailer_one(c, sizeof(crash1) - 1), 0);
		free(c);
		CHECK_INT(sizeof(crash1) - 1, 134);
	}
	/* every truncation of a dense message, in an exact-size buffer */
	for (size_t n = 0; n <= slen; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, sample, n);
		CHECK_INT(fuzz_trailer_one(c, n), 0);
		free(c);
	}
	/* random bytes */
	for (int i = 0; i < 2000; i++) {
		size_t n = rng() % 512;
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rng();
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, buf, n);
		CHECK_INT(fuzz_trailer_one(c, n), 0);
		free(c);
	}
	/* token soup: mostly syntax the parser cares about, with NULs and bad UTF-8 */
	for (int i = 0; i < 5000; i++) {
		size_t n = 0, k = rng() % 64;
		for (size_t j = 0; j < k; j++) {
			size_t ti = rng() % nt;
			size_t tl = tokens[ti][0] ? strlen(tokens[ti]) : 1; /* "\0" is one NUL */
			if (n + tl >= (1 << 16))
				break;
			memcpy(buf + n, tokens[ti], tl);
			n += tl;
		}
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, buf, n);
		CHECK_INT(fuzz_trailer_one(c, n), 0);
		free(c);
	}
	free(buf);
}

int main(void)
{
	RUN(fixes_basic);
	RUN(fixes_no_subject);
	RUN(fixes_case_and_id_lowercased);
	RUN(fixes_space_before_colon);
	RUN(fixes_commit_prefix);
	RUN(fixes_wrapped_subject);
	RUN(fixes_wrapped_at_column0_with_colon);
	RUN(fixes_subject_on_next_line);
	RUN(fixes_unclosed_subject_stops_at_known_key);
	RUN(fixes_several);
	RUN(fixes_short_id_malformed);
	RUN(fixes_version_malformed);
	RUN(fixes_url_and_garbage_malformed);
	RUN(fixes_long_and_empty_malformed);
	RUN(fixes_hex_prefix_of_word_malformed);
	RUN(fixes_single_quotes_and_bare_parens);
	RUN(fixes_id_inside_quotes_or_parens);
	RUN(fixes_missing_colon);
	RUN(stray_line_and_changelog_in_block);
	RUN(divider_and_signature);
	RUN(short_tail_after_signoffs);
	RUN(fixes_subject_with_inner_quotes);
	RUN(quoted_oops_fixes_not_a_trailer);
	RUN(fixes_in_body_paragraph_not_a_trailer);
	RUN(body_key_lines_before_block_ignored);
	RUN(block_split_by_blank_line);
	RUN(block_glued_to_body_text);
	RUN(block_with_notes_and_comments);
	RUN(url_line_in_block_is_not_a_key);
	RUN(continuation_line_joined);
	RUN(cc_stable_forms);
	RUN(cc_stable_prerequisite);
	RUN(cc_stable_bracket_hint);
	RUN(cc_plain);
	RUN(reported_by);
	RUN(closes_and_link);
	RUN(people_trailers);
	RUN(other_trailer);
	RUN(unknown_keys_only_is_not_a_block);
	RUN(upstream_greg);
	RUN(upstream_sasha_and_bracket);
	RUN(upstream_nbsp);
	RUN(stack_trace_brackets_are_not_upstream);
	RUN(cherry_pick);
	RUN(revert);
	RUN(depends_on);
	RUN(cve_ids);
	RUN(crlf_and_trailing_space);
	RUN(empty_and_null);
	RUN(nul_bytes_and_unterminated);
	RUN(too_large_rejected);
	RUN(appends_to_out);
	RUN(kind_names);
	RUN(message_split);
	RUN(many_trailers_capped);
	RUN(jsonl_reader);
	RUN(real_lore);
	RUN(real_patchdb);
	RUN(fuzz_corpus);
	pg_trailers_release(&T);
	return harness_done();
}
