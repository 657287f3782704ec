/*
 * priority.c - rank flagged fixes: urgent versus routine, with reasons.
 *
 * priority = p_security x severity, severity in 0..100:
 *   40 base
 *   + bug class      uaf/oob-write 20, oob 16, missing-permission 16, oob-read 14, integer-overflow 12,
 *                    uninit-infoleak 10, race 10, null-deref 6, dos 6, leak 4, other 4
 *   + reachability   network-facing +20, unprivileged/user-namespace reachable +12,
 *                    needs a device or physical access -12, tools/docs only -30
 *   + evidence       syzbot/reproducer +8, sanitizer report +4, marked for stable +3
 *   + config         compiled in the branch's .config +5; not compiled: severity x 0.2
 * Levels: urgent >= 60, high >= 40, medium >= 20, else low.  Every term that
 * applies is listed in reasons_json so a reader can check the arithmetic.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "classify/classify_int.h"
#include "util/buf.h"
#include "util/banned.h"

const char *pg_cls_level_name(pg_cls_level l)
{
	static const char *const n[] = { "low", "medium", "high", "urgent" };
	return (unsigned)l <= PG_CLS_URGENT ? n[l] : "low";
}

static int class_points(pg_cls_bug_class c)
{
	switch (c) {
	case PG_CLS_UAF: case PG_CLS_OOB_WRITE: return 20;
	case PG_CLS_OOB: case PG_CLS_PERM: return 16;
	case PG_CLS_OOB_READ: return 14;
	case PG_CLS_INT_OVERFLOW: return 12;
	case PG_CLS_UNINIT: case PG_CLS_RACE: return 10;
	case PG_CLS_NULL_DEREF: case PG_CLS_DOS: return 6;
	case PG_CLS_LEAK: case PG_CLS_OTHER: return 4;
	default: return 0;
	}
}

struct reach_rule { const char *prefix; int points; const char *why; };
/* First match wins, so specific prefixes come before their parents. */
static const struct reach_rule reach_rules[] = {
	{ "Documentation/", -30, "documentation only" },
	{ "tools/", -30, "user-space tools or selftests only" },
	{ "net/bluetooth/", -12, "Bluetooth: needs radio proximity and a device" },
	{ "net/nfc/", -12, "NFC: needs physical proximity" },
	{ "net/netfilter/", 20, "netfilter: processes network packets; rules settable from a user namespace" },
	{ "net/sched/", 12, "traffic control: configurable from a user namespace" },
	{ "net/wireless/", -12, "wireless: needs radio proximity and a device" },
	{ "net/mac80211/", -12, "wireless: needs radio proximity and a device" },
	{ "net/unix/", 12, "AF_UNIX: reachable by any local user" },
	{ "net/packet/", 12, "AF_PACKET: reachable from a user namespace" },
	{ "net/", 20, "network stack: reachable from the network" },
	{ "fs/smb/server/", 20, "ksmbd: network file server" },
	{ "fs/ksmbd/", 20, "ksmbd: network file server" },
	{ "fs/nfsd/", 20, "NFS server: reachable from the network" },
	{ "fs/smb/client/", 12, "SMB client: data from a network server" },
	{ "fs/cifs/", 12, "SMB client: data from a network server" },
	{ "io_uring/", 12, "io_uring: reachable by an unprivileged local user" },
	{ "kernel/bpf/", 12, "BPF: reachable by local users where unprivileged BPF is on" },
	{ "ipc/", 12, "IPC: reachable by any local user" },
	{ "mm/", 12, "memory management: reachable by any local user" },
	{ "kernel/", 12, "core kernel: reachable by local users" },
	{ "security/", 12, "security modules: reachable by local users" },
	{ "fs/", 12, "file systems: reachable by local users (crafted images need mount rights)" },
	{ "block/", 8, "block layer: reachable by local users with device access" },
	{ "drivers/net/", 8, "network driver: remote packets, but needs the hardware" },
	{ "drivers/usb/", -12, "USB: needs a device or physical access" },
	{ "drivers/hid/", -12, "HID: needs a device or physical access" },
	{ "drivers/input/", -12, "input: needs a device or physical access" },
	{ "drivers/media/usb/", -12, "USB media: needs a device or physical access" },
	{ "sound/usb/", -12, "USB audio: needs a device or physical access" },
	{ "drivers/bluetooth/", -12, "Bluetooth driver: needs a device" },
	{ "drivers/nfc/", -12, "NFC driver: needs a device" },
	{ "drivers/", -12, "driver: needs the specific hardware" },
	{ "sound/", -6, "sound: needs the device" },
	{ "arch/", 0, "architecture code" },
};

static const struct reach_rule *reach_of(const char *path)
{
	for (size_t i = 0; i < sizeof(reach_rules) / sizeof(reach_rules[0]); i++)
		if (!strncmp(path, reach_rules[i].prefix, strlen(reach_rules[i].prefix)))
			return &reach_rules[i];
	return NULL;
}

/* Map a subject prefix to a path when there are no files ("netfilter: ..."). */
static const char *subject_path(const char *subject)
{
	static const struct { const char *pfx; const char *path; } m[] = {
		{ "netfilter", "net/netfilter/" }, { "io_uring", "io_uring/" }, { "bpf", "kernel/bpf/" },
		{ "net/sched", "net/sched/" }, { "ksmbd", "fs/smb/server/" }, { "nfsd", "fs/nfsd/" },
		{ "usb", "drivers/usb/" }, { "hid", "drivers/hid/" }, { "bluetooth", "net/bluetooth/" },
		{ "wifi", "net/wireless/" }, { "mm", "mm/" }, { "tcp", "net/" }, { "ipv4", "net/" }, { "ipv6", "net/" },
		{ "net", "net/" }, { "drm", "drivers/" }, { "smb", "fs/smb/client/" }, { "ext4", "fs/" },
		{ "btrfs", "fs/" }, { "xfs", "fs/" }, { "f2fs", "fs/" }, { "ALSA", "sound/" },
	};
	const char *s;
	if (!subject)
		return NULL;
	s = pg_cls__skip_subject_prefixes(subject);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		size_t n = strlen(m[i].pfx);
		if (!strncasecmp(s, m[i].pfx, n) && (s[n] == ':' || s[n] == '/' || s[n] == ' '))
			return m[i].path;
	}
	return NULL;
}

static int reason(pg_buf *b, int *first, const char *factor, double points, const char *why)
{
	int error;
	if ((error = pg_buf_puts(b, *first ? "[" : ",")) < 0 ||
	    (error = pg_buf_printf(b, "{\"factor\":\"%s\",\"points\":%.1f,\"why\":", factor, points)) < 0 ||
	    (error = pg_buf_put_json_str(b, why)) < 0 || (error = pg_buf_putc(b, '}')) < 0)
		return error;
	*first = 0;
	return 0;
}

int pg_cls__priority(pg_cls_result *r, const pg_cls_features *f, const pg_cls_input *in)
{
	pg_buf b = PG_BUF_INIT;
	int first = 1, error = 0, cp;
	double sev = 40, pr;
	const struct reach_rule *best = NULL;
	char why[256];

	if ((error = reason(&b, &first, "base", 40, "every security fix starts at 40")) < 0)
		goto out;
	if ((cp = class_points(r->bug_class)) != 0) {
		snprintf(why, sizeof(why), "bug class %s", pg_cls_bug_class_name(r->bug_class));
		sev += cp;
		if ((error = reason(&b, &first, "bug_class", cp, why)) < 0)
			goto out;
	}
	/* the most exposed touched path decides reachability (docs/tools only when all are) */
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct reach_rule *rr = in->files[i] ? reach_of(in->files[i]) : NULL;
		if (rr && (!best || rr->points > best->points))
			best = rr;
	}
	if (!in->nfiles) {
		const char *p = subject_path(in->subject);
		best = p ? reach_of(p) : NULL;
	}
	if (best && best->points) {
		sev += best->points;
		if ((error = reason(&b, &first, "reachability", best->points, best->why)) < 0)
			goto out;
	}
	if (f->syzbot || f->reproducer) {
		sev += 8;
		if ((error = reason(&b, &first, "reproducer", 8,
				    f->syzbot ? "found by syzbot/syzkaller (public reproducer)" : "a reproducer is mentioned")) < 0)
			goto out;
	}
	if (f->sanitizer) {
		sev += 4;
		if ((error = reason(&b, &first, "sanitizer", 4, "sanitizer report (KASAN/KMSAN/UBSAN/KCSAN/KFENCE) in the message")) < 0)
			goto out;
	}
	if (f->dense[1] > 0) { /* trailer:cc_stable */
		sev += 3;
		if ((error = reason(&b, &first, "stable", 3, "marked for stable (Cc: stable)")) < 0)
			goto out;
	}
	if (in->config_built == 1) {
		sev += 5;
		if ((error = reason(&b, &first, "config", 5, "the touched code is compiled in the branch's .config")) < 0)
			goto out;
	}
	if (sev < 0)
		sev = 0;
	if (sev > 100)
		sev = 100;
	if (in->config_built == 0) {
		double before = sev;
		sev *= 0.2;
		if ((error = reason(&b, &first, "config", sev - before, "not compiled in the branch's .config (x0.2)")) < 0)
			goto out;
	}
	pr = r->p_security * sev;
	snprintf(why, sizeof(why), "severity %.1f x P(security) %.3f", sev, r->p_security);
	if ((error = reason(&b, &first, "p_security", pr - sev, why)) < 0 || (error = pg_buf_putc(&b, ']')) < 0)
		goto out;
	r->priority = round(pr * 10) / 10;
	r->level = pr >= 60 ? PG_CLS_URGENT : pr >= 40 ? PG_CLS_HIGH : pr >= 20 ? PG_CLS_MEDIUM : PG_CLS_LOW;
	if (!(r->reasons_json = pg_buf_detach(&b)))
		error = pg_error_setc(PG_ENOMEM, "out of memory");
out:
	pg_buf_release(&b);
	return error;
}
