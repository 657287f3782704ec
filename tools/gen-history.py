#!/usr/bin/env python3
"""gen-history.py -- kernel-shaped git history generator for patchgap tests and benchmarks.

Writes a synthetic Linux-like history (mainline with topic merges and -rc/release tags,
linux-X.Y.y stable branches with real cherry-picked backports, vendor branches) into a
git repository, plus a ground-truth JSON file describing every fact the patchgap engines
are expected to recover.  The objects go straight into one pack file (version 2, with its
.idx) written by a forked child process; git itself is only used for `init`, `update-ref`,
reading the refs back and the final checkout.  See doc/internals/generator.md.

Usage:
    tools/gen-history.py --out DIR [--seed N] [--scale tiny|small|medium|large|huge]
                         [--commits N] [--stable N] [--data DIR] [--truth FILE]
                         [--no-data] [--vendor-rewrite K]

Invariants (the tests rely on them):

* Reproducible: the output depends only on the arguments (and on the data files when they
  are used).  One `random.Random` stream drives the history; no set or hash-ordered
  container is ever iterated; dates are derived from the seed.  Same args => same commit
  ids and byte-identical truth file.
* Every object id is computed here (blob / tree / commit / tag, git's object format).
  Trees are persistent nodes (copy on write) so a commit only re-hashes the directories on
  the paths it changes.  Pack: an object already written is skipped; a blob or tree whose
  previous version (same path on the same branch) is in the pack with a delta chain
  shorter than 50 is stored as an OFS_DELTA (copy prefix, insert the changed bytes, copy
  suffix), anything else whole with zlib level 1.  At the end git reads the refs back and
  they must peel to the computed commit ids; any mismatch is fatal.
* The generated ids do not depend on how objects are stored: the same arguments give the
  same ids (and truth) as the fast-import based writer this replaced.
* Every line of every generated file is unique within that file, and the first and last
  4 lines of a file are never edited.  Each commit makes exactly one contiguous edit
  (replace / insert / delete of 1-3 lines) per file it touches, so every edit has full
  3-line context on both sides.  A backport is applied only if the exact context window
  (3 lines before, old lines, 3 lines after) is found in the target branch's file: the
  resulting diff is then identical to the upstream one (same `git patch-id --stable`).
  Vendor "adapted" picks are the only backports whose diff differs.
* Only commits that have landed on master (directly or through a merge) are backported,
  are named by Fixes: tags, or are reverted; every id quoted in a message is a real id of
  the generated history (except deliberately malformed Fixes: tags, see truth).
* Dates: committer dates are strictly increasing in generation order (all branches);
  author dates are a little earlier than committer dates; backports keep the upstream
  author and author date.
* Topic branches only touch files that master did not touch since the fork point, so a
  merge is a clean 3-way merge whose tree is "master + topic files".
* Nothing from the data directory is copied verbatim into the repository except commit
  message texts and file paths; the data files are only read.
"""

import argparse
import array
import functools
import gc
import bisect
import gzip
import hashlib
import heapq
import json
import os
import pickle
import random
import re
import resource
import subprocess
import sys
import time
import zlib
from collections import deque

SHA1 = hashlib.sha1

# --------------------------------------------------------------------------- configuration

SCALES = {
    # commits: total target; stable/vendors: branch counts; files: tree size;
    # first: first mainline release generated; releases: number of releases;
    # lines: (min, max) lines per initial file; mshare: expected mainline share of commits;
    # tagevery: stable backports between two stable tags; maxlines: see Gen.make_edit.
    'tiny':   dict(commits=300, stable=2, vendors=1, files=200, first=(6, 1), releases=5,
                   lines=(20, 80), mshare=0.80, tagevery=(2, 5)),
    'small':  dict(commits=3000, stable=3, vendors=1, files=1500, first=(6, 0), releases=8,
                   lines=(20, 80), mshare=0.80, tagevery=(3, 8)),
    'medium': dict(commits=50000, stable=6, vendors=2, files=10000, first=(5, 10), releases=14,
                   lines=(20, 60), mshare=0.78, tagevery=(6, 25)),
    'large':  dict(commits=300000, stable=12, vendors=2, files=30000, first=(4, 19), releases=26,
                   lines=(16, 40), mshare=0.75, tagevery=(10, 50)),
    'huge':   dict(commits=1700000, stable=20, vendors=2, files=70000, first=(4, 14), releases=40,
                   lines=(12, 30), mshare=0.72, tagevery=(20, 80), maxlines=12000),
}
FULL_TRUTH_SCALES = ('tiny', 'small')       # first_release / labels for every commit
LAST_MINOR = {2: 39, 3: 19, 4: 20, 5: 19, 6: 19, 7: 19}
LTS = {(4, 4), (4, 9), (4, 14), (4, 19), (5, 4), (5, 10), (5, 15), (6, 1), (6, 6), (6, 12)}
CYCLE_DAYS = 66                  # ~9.5 weeks per release
END_EPOCH = 1735689600           # 2025-01-01: generation is placed to end around here

# Commit kind probabilities for mainline non-merge commits.
P_SEC, P_FIX, P_REVERT = 0.07, 0.25, 0.012
P_MERGE_UNIT = 0.18              # chance that a mainline step is a topic merge
# Backport probability per (landed mainline commit, alive stable branch).
P_BP = {'sec': 0.9, 'fixcc': 0.9, 'fix': 0.45, 'revert': 0.4, 'feat': 0.01}
P_STABLE_ADAPT_SKIP = 0.4       # context differs: skip the backport (else: adapted backport)
P_STABLE_REVERT = 0.05           # a stable backport gets reverted later on that branch
P_VENDOR_PICK = 0.6              # a stable backport is picked by the vendor branch
P_VENDOR_OWN = 0.3               # vendor-only commit next to a pick

TOP = ("Linnea Thorvald", "linnea@kernel.example.org", "-0800")
STABLE_G = ("Greta Kroh", "gregk@stable.example.org", "+0100")     # 'commit X upstream.'
STABLE_S = ("Sascha Lewin", "sashal@stable.example.org", "-0500")  # '[ Upstream commit X ]'
VENDOR_PEOPLE = [("Acme Kernel Team", "kernel@acme.example.com", "+0000"),
                 ("Wile Coyote", "wile.coyote@acme.example.com", "-0700"),
                 ("Rhoda Runner", "rhoda.runner@acme.example.com", "+0530")]
_NAMES = """Alice Vance|Bogdan Petrescu|Chen Wei|Dana Okafor|Erik Lindqvist|Fatima Zahra|
Gustavo Pereira|Hiroshi Tanaka|Ines Moreau|Jakub Nowak|Kavya Iyer|Lars Becker|Mei Lin|
Nikolai Orlov|Olga Sokolova|Pavel Dvorak|Quentin Marchal|Rosa Delgado|Sanjay Rao|Tomasz Wrobel|
Ulrike Hahn|Viktor Kral|Wen Zhao|Xavier Dubois|Yusuf Demir|Zofia Kowalska|Arjun Menon|
Beatriz Costa|Ciaran Walsh|Dmitri Volkov|Elena Russo|Farid Haddad|Greta Lund|Hamza Aziz|
Ivana Horvat|Jonas Berg|Keiko Sato|Luca Bianchi|Maya Cohen|Noah Fischer"""
_TZ = ["+0000", "+0100", "+0200", "-0700", "-0400", "+0800", "+0530", "+0900", "-0300", "+0300"]
AUTHORS = [(n.strip(), n.strip().lower().replace(' ', '.') + "@example.%s" % ("com", "org", "net")[i % 3],
            _TZ[i % len(_TZ)]) for i, n in enumerate(_NAMES.replace('\n', '').split('|'))]
MAINTAINERS = AUTHORS[:10]

BASE_DIRS = """
arch/x86/kernel arch/x86/kernel/cpu arch/x86/mm arch/x86/kvm arch/x86/kvm/vmx arch/x86/include/asm
arch/x86/events/intel arch/x86/net arch/x86/boot/compressed arch/arm64/kernel arch/arm64/mm arch/arm64/kvm
arch/arm64/include/asm arch/arm/mm arch/arm/kernel arch/arm/mach-omap2 arch/powerpc/kernel
arch/powerpc/mm/book3s64 arch/powerpc/platforms/pseries arch/riscv/kernel arch/riscv/mm arch/s390/kernel
arch/s390/kvm arch/mips/kernel arch/loongarch/kernel
drivers/net/ethernet/intel/e1000e drivers/net/ethernet/intel/igb drivers/net/ethernet/intel/ixgbe
drivers/net/ethernet/intel/i40e drivers/net/ethernet/intel/ice drivers/net/ethernet/mellanox/mlx5/core
drivers/net/ethernet/mellanox/mlx5/core/en drivers/net/ethernet/mellanox/mlx4 drivers/net/ethernet/broadcom/bnxt
drivers/net/ethernet/broadcom/genet drivers/net/ethernet/realtek drivers/net/ethernet/amazon/ena
drivers/net/ethernet/marvell/octeontx2/af drivers/net/ethernet/stmicro/stmmac drivers/net/ethernet/freescale/enetc
drivers/net/ethernet/qlogic/qed drivers/net/ethernet/cadence drivers/net/ethernet/hisilicon/hns3
drivers/net/wireless/intel/iwlwifi/mvm drivers/net/wireless/ath/ath11k drivers/net/wireless/ath/ath9k
drivers/net/wireless/realtek/rtw89 drivers/net/wireless/mediatek/mt76 drivers/net/usb drivers/net/phy
drivers/net/can/usb drivers/net/bonding drivers/net/team drivers/net/dsa drivers/net/ppp drivers/net/hyperv
drivers/net/vxlan drivers/gpu/drm/i915/display drivers/gpu/drm/i915/gt drivers/gpu/drm/i915/gem
drivers/gpu/drm/amd/amdgpu drivers/gpu/drm/amd/display/dc/core drivers/gpu/drm/amd/pm/swsmu
drivers/gpu/drm/nouveau/nvkm/engine/gr drivers/gpu/drm/msm/dp drivers/gpu/drm/radeon drivers/gpu/drm/xe
drivers/gpu/drm/vc4 drivers/gpu/drm/panel drivers/gpu/drm/bridge drivers/gpu/drm/ttm drivers/gpu/drm/scheduler
drivers/usb/core drivers/usb/host drivers/usb/gadget/function drivers/usb/dwc3 drivers/usb/serial
drivers/usb/typec/ucsi drivers/scsi drivers/scsi/lpfc drivers/scsi/qla2xxx drivers/nvme/host drivers/nvme/target
drivers/block drivers/md drivers/md/bcache drivers/tty/serial drivers/tty/vt drivers/input/mouse
drivers/input/touchscreen drivers/hid drivers/i2c/busses drivers/spi drivers/gpio drivers/pinctrl/intel
drivers/iio/adc drivers/iio/imu drivers/infiniband/core drivers/infiniband/hw/mlx5 drivers/infiniband/sw/rxe
drivers/media/usb/uvc drivers/media/platform/qcom/venus drivers/media/dvb-core drivers/mmc/host
drivers/pci/controller/dwc drivers/pci drivers/thermal drivers/power/supply drivers/firmware/efi drivers/acpi
drivers/base drivers/char/tpm drivers/clk/qcom drivers/crypto/ccp drivers/dma drivers/hwmon drivers/iommu/intel
drivers/iommu/amd drivers/irqchip drivers/leds drivers/mfd drivers/misc drivers/mtd/nand/raw drivers/platform/x86
drivers/regulator drivers/remoteproc drivers/rtc drivers/soc/qcom drivers/staging/rtl8723bs/core drivers/vfio/pci
drivers/vhost drivers/video/fbdev/core drivers/virtio drivers/watchdog drivers/xen drivers/bluetooth drivers/nfc
drivers/ata drivers/cpufreq drivers/edac drivers/hv drivers/android drivers/dma-buf
fs fs/ext4 fs/btrfs fs/xfs fs/xfs/libxfs fs/nfs fs/nfsd fs/smb/client fs/smb/server fs/f2fs fs/overlayfs fs/fuse
fs/ceph fs/ntfs3 fs/udf fs/jfs fs/gfs2 fs/ocfs2 fs/proc fs/kernfs fs/9p fs/erofs fs/exfat fs/hfsplus fs/squashfs
fs/notify/fanotify fs/nilfs2 fs/afs fs/netfs fs/iomap
net/ipv4 net/ipv6 net/core net/netfilter net/netfilter/ipset net/netfilter/ipvs net/ipv4/netfilter
net/bridge/netfilter net/sched net/bluetooth net/bluetooth/rfcomm net/mac80211 net/wireless net/xdp net/tipc
net/sctp net/smc net/unix net/packet net/mptcp net/rds net/vmw_vsock net/bridge net/can net/nfc net/tls
net/rxrpc net/sunrpc net/ceph net/8021q net/l2tp net/openvswitch net/batman-adv net/dsa net/xfrm net/key
net/llc net/netlink net/ethtool net/devlink
kernel kernel/bpf kernel/sched kernel/trace kernel/events kernel/time kernel/irq kernel/locking kernel/rcu
kernel/cgroup kernel/printk kernel/dma kernel/power kernel/futex kernel/module
mm mm/kasan mm/damon include/linux include/net include/uapi/linux include/trace/events include/linux/mlx5
include/net/netfilter include/drm include/sound include/uapi/drm include/media include/linux/netfilter
sound/core sound/pci/hda sound/usb sound/soc/codecs sound/soc/intel/boards sound/soc/sof sound/soc/qcom
io_uring block crypto security security/selinux security/apparmor security/keys security/integrity/ima
security/smack security/landlock lib lib/crypto virt/kvm ipc init samples/bpf tools/testing/selftests/net
tools/testing/selftests/bpf/progs tools/perf/util tools/lib/bpf scripts certs
""".split()
SUBDIR_WORDS = ("core hw fw lib phy cmd en sriov debug ops util common dev port ctrl qos rdma tc xsk "
                "ptp vf pf mac mgmt host steering diag lag esw accel").split()
FILE_WORDS = ("main core ops ethtool debugfs irq dma ioctl sysfs util hw phy pm init common ctrl dev tx "
              "rx mac reg fw cmd query table queue ring mbox stats trace sched ptp vf port link mgmt "
              "power clk reset probe acpi of i2c spi pci usb").split()
WORDS = ("buffer queue request skb socket inode folio page ring context device descriptor table "
         "entry node mapping refcount timer work lock handle chain rule set element flow").split()
VERBS = ("alloc free init release get put lookup update parse validate setup teardown process "
         "handle flush reset probe remove attach detach").split()
SEC_TEMPLATES = ["fix use-after-free in {fn}()", "fix out-of-bounds read in {fn}()",
                 "fix NULL pointer dereference in {fn}()", "fix memory leak in {fn}()",
                 "prevent integer overflow in {fn}()", "fix race between {fn}() and {fn2}()",
                 "validate {obj} length in {fn}()", "fix double free in {fn}() error path",
                 "fix refcount leak in {fn}()", "avoid stack out-of-bounds write in {fn}()"]
FIX_TEMPLATES = ["fix {obj} handling in {fn}()", "correct error path in {fn}()",
                 "fix wrong return value of {fn}()", "fix {obj} accounting", "fix missing unlock in {fn}()",
                 "fix typo in {fn}() comment", "restore {obj} state on failure", "fix warning in {fn}()"]
FEAT_TEMPLATES = ["add support for {obj} offload", "convert {fn}() to use guard()", "remove unused {fn}()",
                  "use {fn2}() helper", "refactor {fn}()", "simplify {obj} lookup",
                  "add {obj} statistics", "make {fn}() static", "switch to dev_err_probe()",
                  "drop redundant {obj} check", "introduce {fn}() helper"]
BODY_SENTENCES = ["The {obj} is accessed after it has been released by {fn}().",
                  "{fn}() does not check the return value of {fn2}().",
                  "When the {obj} is torn down concurrently, {fn}() may still reference it.",
                  "This was found by code inspection.", "This keeps the code consistent with {fn2}().",
                  "No functional change intended.", "Move the {obj} update under the lock.",
                  "Clean up the error handling so that every path releases the {obj}.",
                  "Userspace can trigger this with a crafted request.", "Tested on real hardware."]

PATH_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.+,=@-]*(/[A-Za-z0-9_][A-Za-z0-9_.+,=@-]*)*$')
TRAILER_RE = re.compile(
    r'^\s*(Signed-off-by|Fixes|Cc|Link|Reported-by|Reported-and-tested-by|Tested-by|Acked-by|'
    r'Reviewed-by|Suggested-by|Closes|Co-developed-by|Message-Id|Change-Id|Bisected-by|Debugged-by|'
    r'Originally-by|Requested-by|Analyzed-by|Helped-by|Noticed-by|Based-on-patch-by|Stable-dep-of|'
    r'Co-authored-by|BugLink|Bug|References|Patchwork-Id|Tested-and-acked-by|Acked-and-tested-by)'
    r'\s*:', re.I)
STABLE_LINE_RE = re.compile(r'^\s*(commit [0-9a-f]{7,40} upstream\.?|\[ *Upstream commit [0-9a-f]+ *\]|'
                            r'\(cherry picked from commit [0-9a-f]+\))\s*$', re.I)


def vnext(v):
    return (v[0], v[1] + 1) if v[1] < LAST_MINOR.get(v[0], 19) else (v[0] + 1, 0)


def vprev(v):
    return (v[0], v[1] - 1) if v[1] > 0 else (v[0] - 1, LAST_MINOR[v[0] - 1])


def vs(v):
    return "%d.%d" % v


def ident(p, ts):
    return b"%s <%s> %d %s" % (p[0].encode(), p[1].encode(), ts, p[2].encode())


def clean_text(s):
    s = (s or '').replace('\r\n', '\n').replace('\r', '\n').replace('\x00', '')
    return s.encode('utf-8', 'replace').decode('utf-8')


def strip_trailers(msg):
    out = []
    for line in clean_text(msg).split('\n'):
        if TRAILER_RE.match(line) or STABLE_LINE_RE.match(line):
            continue
        out.append(line.rstrip())
    text = '\n'.join(out).strip('\n')
    return re.sub(r'\n{3,}', '\n\n', text)


# --------------------------------------------------------------------------- git objects

class Tree:
    """Immutable directory node (copy on write).

    ents:  name -> 20-byte blob id (file) or Tree (directory)
    order: names in git's tree order (shared between versions while the name set is unchanged)
    body:  the encoded git tree object (without header)
    span:  (lo, hi) when body differs from the previous version's only in body[lo:hi] (same
           length: entry ids replaced in place), else None; used for the pack delta
    """
    __slots__ = ('ents', 'order', 'sha', 'body', 'span')

    def __init__(self, ents, order, body, span=None):
        self.ents = ents
        self.order = order
        self.body = body
        self.span = span
        self.sha = SHA1(b"tree %d\x00%s" % (len(body), body)).digest()


def _tkey(kv):
    return kv[0] + '/' if type(kv[1]) is Tree else kv[0]


def _order(ents):
    return [k for k, _ in sorted(ents.items(), key=_tkey)]


def _enc(name, v):
    if type(v) is Tree:
        return b"40000 %s\x00%s" % (name.encode(), v.sha)
    return b"100644 %s\x00%s" % (name.encode(), v)


def tree_update(node, changes, d, new):
    """New Tree = node with changes applied; changes: list of [path components, blob id | None,
    slot], d: depth of node (index into the path components).  Sets slot to the blob id the
    path had before (None if none).

    Appends (new node, previous version or None) to `new` for every sub-directory node created
    (children first), except directories that became empty (they are dropped, not written).
    When the set of names is unchanged the new body is the old one with entry ids replaced in
    place (no re-encoding of the other entries)."""
    if node is not None:
        ents = dict(node.ents)
        order = node.order
        body = node.body
    else:
        ents, order, body = {}, None, b""
    reorder = order is None
    lo, hi = len(body), 0
    sub = {}
    for ch in changes:
        parts = ch[0]
        name = parts[d]
        if len(parts) == d + 1:
            v = ch[1]
            old = ents.get(name)
            ch[2] = old if type(old) is bytes else None
            if v is None:
                if old is not None:
                    del ents[name]
                    reorder = True
                continue
            if old is None or type(old) is Tree:
                reorder = True
            elif not reorder and old != v:
                pos = body.find(b"100644 %s\x00%s" % (name.encode(), old))
                if pos < 0:
                    reorder = True
                else:
                    pos += len(name) + 8
                    body = body[:pos] + v + body[pos + 20:]
                    lo, hi = min(lo, pos), max(hi, pos + 20)
            ents[name] = v
        else:
            lst = sub.get(name)
            if lst is None:
                sub[name] = [ch]
            else:
                lst.append(ch)
    for name, items in sub.items():
        child = ents.get(name)
        if type(child) is not Tree:
            child = None
            reorder = True
        nc = tree_update(child, items, d + 1, new)
        if nc.ents:
            new.append((nc, child))
            if not reorder:
                pos = body.find(b"40000 %s\x00%s" % (name.encode(), child.sha))
                if pos < 0:
                    reorder = True
                else:
                    pos += len(name) + 7
                    body = body[:pos] + nc.sha + body[pos + 20:]
                    lo, hi = min(lo, pos), max(hi, pos + 20)
            ents[name] = nc
        elif name in ents:
            del ents[name]
            reorder = True
    if reorder:
        order = _order(ents)
        return Tree(ents, order, b"".join([_enc(n, ents[n]) for n in order]))
    return Tree(ents, order, body, (lo, hi) if hi else None)


def tree_get(node, path):
    """Blob id of path in the tree node."""
    parts = path.split('/')
    for p in parts[:-1]:
        node = node.ents[p]
    return node.ents[parts[-1]]


def build_tree(path_blobs, new):
    """Tree of path_blobs [(path, blob id)]; every node is appended to `new`."""
    root = {}
    for path, sha in path_blobs:
        d = root
        parts = path.split('/')
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = sha

    def mk(d):
        ents = {k: (mk(v) if isinstance(v, dict) else v) for k, v in d.items()}
        order = _order(ents)
        t = Tree(ents, order, b"".join([_enc(k, ents[k]) for k in order]))
        new.append(t)
        return t
    return mk(root)


def blob_of(lines):
    data = ("\n".join(lines) + "\n").encode()
    return data, SHA1(b"blob %d\x00%s" % (len(data), data)).digest()


def edit_span(old, new, edit, ld):
    """(pre, suf, size of old's blob) for PackWriter.add: new (ld bytes, ASCII: a character is
    a byte) is old with lines [k:k + nold] replaced by new[k:k + nnew].  Only the shorter side
    of the edit is measured: the hot files grow to thousands of lines."""
    k, nold, nnew = edit
    mid = sum(map(len, new[k:k + nnew])) + nnew
    if 2 * k < len(new):
        pre = sum(map(len, new[:k])) + k
        suf = ld - pre - mid
    else:
        e = k + nnew
        suf = sum(map(len, new[e:])) + len(new) - e
        pre = ld - suf - mid
    return pre, suf, pre + suf + sum(map(len, old[k:k + nold])) + nold


# --------------------------------------------------------------------------- pack writer

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG, OBJ_OFS_DELTA = 1, 2, 3, 4, 6
TYPE_NAME = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob", OBJ_TAG: b"tag"}
MAX_DEPTH = 50                    # delta chain limit (git's default pack.depth)
ZWBITS = 14                       # 16 KiB window: wbits 15 makes zlib allocate (and fault in) 256 KiB per call


def _varint(n):
    if n < 0x80:
        return bytes((n,))
    if n < 0x4000:
        return bytes(((n & 0x7f) | 0x80, n >> 7))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _entry_header(typ, size):
    c = (typ << 4) | (size & 15)
    size >>= 4
    if not size:
        return bytes((c,))
    if size < 0x80:
        return bytes((c | 0x80, size))
    out = bytearray()
    while size:
        out.append(c | 0x80)
        c = size & 0x7f
        size >>= 7
    out.append(c)
    return bytes(out)


def _ofs(rel):
    if rel < 0x80:
        return bytes((rel,))
    out = bytearray((rel & 0x7f,))
    rel >>= 7
    while rel:
        rel -= 1
        out.append(0x80 | (rel & 0x7f))
        rel >>= 7
    out.reverse()
    return bytes(out)


def _copy_op(off, size):
    """Delta copy op (0 < size < 2**24, off < 2**32); the decoder accepts any set of present
    offset/size bytes, so all the low bytes up to the highest non-zero one are written."""
    no = (off.bit_length() + 7) >> 3
    ns = (size.bit_length() + 7) >> 3
    return (bytes((0x80 | ((1 << no) - 1) | (((1 << ns) - 1) << 4),)) + off.to_bytes(no, 'little')
            + size.to_bytes(ns, 'little'))


def common_ends(src, dst):
    """Lengths of the common prefix and of the common suffix of src and dst (not overlapping)."""
    ls, ld = len(src), len(dst)
    n = min(ls, ld)
    # first differing byte: the highest set bit of the xor of the big-endian integers
    x = int.from_bytes(src[:n], 'big') ^ int.from_bytes(dst[:n], 'big')
    pre = n - ((x.bit_length() + 7) >> 3)
    m = n - pre
    if not m:
        return pre, 0
    x = int.from_bytes(src[ls - m:], 'little') ^ int.from_bytes(dst[ld - m:], 'little')
    return pre, m - ((x.bit_length() + 7) >> 3)


def make_delta(ls, dst, pre, suf):
    """git delta turning a source of ls bytes into dst, which has the source's first pre and
    last suf bytes (pre + suf <= min(ls, len(dst))): copy the prefix, insert the middle, copy
    the suffix.  The generator's edits are contiguous, so this is (nearly) optimal."""
    ld = len(dst)
    out = [_varint(ls), _varint(ld)]
    p = 0
    while p < pre:                  # copy ops carry at most 24-bit sizes
        k = min(pre - p, 0xffffff)
        out.append(_copy_op(p, k))
        p += k
    i, e = pre, ld - suf
    while i < e:
        k = min(127, e - i)
        out.append(bytes((k,)))
        out.append(dst[i:i + k])
        i += k
    p = ls - suf
    while p < ls:
        k = min(ls - p, 0xffffff)
        out.append(_copy_op(p, k))
        p += k
    return b"".join(out)


def _stored_zlib(data):
    """zlib stream of data in stored (uncompressed) blocks: for small deltas, where deflate
    costs more than it saves."""
    out = [b"\x78\x01"]
    n = len(data)
    i = 0
    while True:
        k = min(65535, n - i)
        last = i + k >= n
        out.append(bytes((1 if last else 0, k & 0xff, k >> 8, ~k & 0xff, (~k >> 8) & 0xff)))
        out.append(data[i:i + k])
        i += k
        if last:
            break
    out.append(zlib.adler32(data).to_bytes(4, 'big'))
    return b"".join(out)


class PackWriter:
    """Writes one pack (version 2) and its .idx (version 2) into GITDIR/objects/pack.

    Objects are given with their id (computed by the caller) and optionally a base: the
    previous version of the same file or directory.  An object whose id was already written
    is skipped; a base that was written and whose delta chain is shorter than MAX_DEPTH
    gives an OFS_DELTA entry, otherwise the object is written whole (zlib level 1)."""

    def __init__(self, gitdir, off32_limit=0x7fffffff):
        self.off32_limit = off32_limit      # larger offsets go to the 64-bit table (git's rule)
        self.dir = os.path.join(gitdir, 'objects', 'pack')
        os.makedirs(self.dir, exist_ok=True)
        self.tmp = os.path.join(self.dir, 'tmp_gen_history_%d.pack' % os.getpid())
        self.f = open(self.tmp, 'wb', buffering=1 << 20)
        self.f.write(b"PACK\x00\x00\x00\x02\x00\x00\x00\x00")
        self.off = 12
        # per object, by number in writing order: the index needs offsets and CRCs sorted by
        # id, found faster in arrays than in millions of scattered ints (huge: 14M objects)
        self.objs = {}              # id -> number
        self.offs = array.array('Q')
        self.sizes = array.array('I')
        self.crcs = array.array('I')
        self.depth = bytearray()    # delta chain length
        self.stats = [0, 0, 0, 0]   # whole objects, deltas, duplicates skipped, wrong delta bases

    def add(self, typ, sha, data, base=None, base_data=None, span=None):
        """base: id of the delta base candidate; then either span = (pre, suf, size): data has
        the first pre and the last suf bytes of the base, whose size is given (the generator
        knows where it edited, so the base's bytes need not be sent), or base_data: the base's
        bytes or tuple of lines, compared with data here."""
        objs = self.objs
        if sha in objs:
            self.stats[2] += 1
            return
        off = self.off
        ld = len(data)
        ent = None
        bi = objs.get(base) if base is not None else None
        if bi is not None and self.depth[bi] < MAX_DEPTH:
            delta = None
            if span is not None:
                if span[2] == self.sizes[bi]:
                    delta = make_delta(span[2], data, span[0], span[1])
                else:
                    self.stats[3] += 1          # not the base's size (a generator bug): no delta
            else:
                if type(base_data) is tuple:
                    base_data = ("\n".join(base_data) + "\n").encode()
                    if SHA1(b"blob %d\x00%s" % (len(base_data), base_data)).digest() != base:
                        base_data = None        # not the base's text (a generator bug): no delta
                        self.stats[3] += 1
                if base_data is not None:
                    pre, suf = common_ends(base_data, data)
                    delta = make_delta(len(base_data), data, pre, suf)
            if delta is not None and len(delta) < ld:
                z = _stored_zlib(delta) if len(delta) < 512 else zlib.compress(delta, 1, ZWBITS)
                ent = _entry_header(OBJ_OFS_DELTA, len(delta)) + _ofs(off - self.offs[bi]) + z
                depth = self.depth[bi] + 1
                self.stats[1] += 1
        if ent is None:
            ent = _entry_header(typ, ld) + zlib.compress(data, 1, ZWBITS)
            depth = 0
            self.stats[0] += 1
        self.f.write(ent)
        self.off = off + len(ent)
        objs[sha] = len(self.offs)
        self.offs.append(off)
        self.sizes.append(ld)
        self.crcs.append(zlib.crc32(ent))
        self.depth.append(depth)

    def finish(self):
        """Complete the pack and write the index; returns the pack's path."""
        objs = self.objs
        n = len(objs)
        f = self.f
        f.flush()
        f.seek(8)
        f.write(n.to_bytes(4, 'big'))
        f.close()
        h = SHA1()
        with open(self.tmp, 'rb') as r:
            while True:
                b = r.read(1 << 22)
                if not b:
                    break
                h.update(b)
        psum = h.digest()
        with open(self.tmp, 'ab') as a:
            a.write(psum)
        ids = list(objs)            # in writing order: ids[i] is object number i
        order = sorted(range(n), key=ids.__getitem__)
        keys = list(map(ids.__getitem__, order))
        fan = [bisect.bisect_right(keys, bytes((i,)) + b"\xff" * 19) for i in range(256)]
        crcs = array.array('I', map(self.crcs.__getitem__, order))
        offs = list(map(self.offs.__getitem__, order))
        lim = self.off32_limit
        large = [o for o in offs if o > lim]
        if large:
            li = iter(range(len(large)))
            offs = [o if o <= lim else 0x80000000 | next(li) for o in offs]
        offs32 = array.array('I', offs)
        if sys.byteorder == 'little':
            crcs.byteswap()
            offs32.byteswap()
        fanb = array.array('I', fan)
        if sys.byteorder == 'little':
            fanb.byteswap()
        idx = [b"\xfftOc\x00\x00\x00\x02", fanb.tobytes(), b"".join(keys), crcs.tobytes(), offs32.tobytes(),
               b"".join(o.to_bytes(8, 'big') for o in large), psum]
        idx = b"".join(idx)
        idx += SHA1(idx).digest()
        name = os.path.join(self.dir, 'pack-' + psum.hex())
        with open(self.tmp[:-5] + '.idx', 'wb') as w:
            w.write(idx)
        os.chmod(self.tmp, 0o444)
        os.chmod(self.tmp[:-5] + '.idx', 0o444)
        os.replace(self.tmp, name + '.pack')
        os.replace(self.tmp[:-5] + '.idx', name + '.idx')
        self.objs = None
        return name + '.pack'



class PackProcess:
    """PackWriter in a forked child process, so that deltas, zlib and the index use the second
    core: add() batches the objects and sends them through a pipe (pickled); finish() waits for
    the child and returns (pack path, stats)."""

    BATCH = 2048

    def __init__(self, gitdir, off32_limit=0x7fffffff):
        r, w = os.pipe()
        rr, rw = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(w)
            os.close(rr)
            code = 1
            try:
                self._child(gitdir, off32_limit, os.fdopen(r, 'rb', buffering=1 << 20), rw)
                code = 0
            finally:
                os._exit(code)
        os.close(r)
        os.close(rw)
        self.pid = pid
        self.out = os.fdopen(w, 'wb', buffering=1 << 20)
        self.res = rr
        self.batch = []
        self.stats = None

    @staticmethod
    def _child(gitdir, off32_limit, inp, resfd):
        res = b"E"
        pw = None
        try:
            pw = PackWriter(gitdir, off32_limit)
            add = pw.add
            while True:
                hdr = inp.read(8)
                n = int.from_bytes(hdr, 'little') if len(hdr) == 8 else -1
                if n <= 0:
                    break
                for rec in pickle.loads(inp.read(n)):
                    add(*rec)
            if n == 0:
                path = pw.finish()
                ru = resource.getrusage(resource.RUSAGE_SELF)
                res = json.dumps({"path": path, "stats": pw.stats + [ru.ru_maxrss, ru.ru_utime + ru.ru_stime]}).encode()
        except BaseException as e:                  # reported to the parent
            res = b"E" + repr(e).encode()
        if res[:1] == b"E" and pw is not None and os.path.exists(pw.tmp):
            os.unlink(pw.tmp)
        with os.fdopen(resfd, 'wb') as f:
            f.write(res)

    def add(self, *rec):
        b = self.batch
        b.append(rec)
        if len(b) >= self.BATCH:
            self.send()

    def send(self):
        if self.batch:
            data = pickle.dumps(self.batch, protocol=pickle.HIGHEST_PROTOCOL)
            self.out.write(len(data).to_bytes(8, 'little'))
            self.out.write(data)
            self.batch = []

    def cpu(self):
        """CPU seconds used by the writer so far (Linux /proc), None if unknown."""
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                st = f.read().rsplit(')', 1)[1].split()
            return (int(st[11]) + int(st[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, ValueError, IndexError):
            return None

    def finish(self):
        try:
            self.send()
            self.out.write(b"\0" * 8)
            self.out.close()
        except BrokenPipeError:
            pass
        with os.fdopen(self.res, 'rb') as f:
            res = f.read()
        os.waitpid(self.pid, 0)
        if res[:1] == b"E" or not res:
            sys.exit("gen-history: pack writer failed: %s" % res[1:].decode('utf-8', 'replace'))
        r = json.loads(res)
        self.stats = r["stats"]
        return r["path"]


# --------------------------------------------------------------------------- file contents

def file_style(path):
    base = path.rsplit('/', 1)[-1]
    if base.startswith('Makefile') or base.startswith('Kbuild'):
        return 'make'
    if base.startswith('Kconfig'):
        return 'kconfig'
    ext = base.rsplit('.', 1)[-1] if '.' in base else ''
    return 'c' if ext in ('c', 'h', 'S') else 'text'


@functools.lru_cache(maxsize=1 << 17)
def stem_of(path):
    base = path.rsplit('/', 1)[-1]
    if '.' in base:
        base = base.rsplit('.', 1)[0]
    s = re.sub(r'[^a-z0-9]+', '_', base.lower()).strip('_')
    if not s or s[0].isdigit():
        s = 'f_' + s
    return s


class Content:
    """Deterministic initial file contents (regenerated lazily, never stored) and new lines."""

    def __init__(self, lines_range):
        self.lo, self.hi = lines_range
        self.u = 0
        self.cache = {}

    def initial(self, path):
        v = self.cache.get(path)
        if v is None:
            v = self.cache[path] = self._initial(path)
        return v

    def _initial(self, path):
        h = int.from_bytes(hashlib.md5(path.encode()).digest()[:8], 'little')
        n = self.lo + h % (self.hi - self.lo + 1)
        st, style = stem_of(path), file_style(path)
        ST = st.upper()
        body = n - 8
        if style == 'c':
            head = ["// SPDX-License-Identifier: GPL-2.0", "/* %s */" % path,
                    "#include <linux/kernel.h>", "#include <linux/module.h>"]
            mid = ["static int %s_fn%d(struct %s_priv *p) { return p->v%d + %d; }"
                   % (st, i, st, i, (h >> (i % 48)) % 97) for i in range(body)]
            tail = ['MODULE_AUTHOR("%s maintainers");' % st, 'MODULE_LICENSE("GPL");',
                    'MODULE_DESCRIPTION("%s support");' % st, "/* end of %s */" % path]
        elif style == 'make':
            d = path.rsplit('/', 1)[0] if '/' in path else '.'
            head = ["# SPDX-License-Identifier: GPL-2.0", "# Makefile for %s" % d,
                    "ccflags-y += -I$(srctree)/%s" % d, "subdir-ccflags-y += -DMOD_%s" % ST]
            mid = ["obj-$(CONFIG_%s_%d) += %s_%d.o" % (ST, i, st, i) for i in range(body)]
            tail = ["# %s end 1" % st, "# %s end 2" % st, "# %s end 3" % st, "# end of %s" % path]
        elif style == 'kconfig':
            head = ["# SPDX-License-Identifier: GPL-2.0-only", "# %s" % path,
                    'menu "%s options"' % st, "comment \"%s\"" % ST]
            mid = ['\tbool "%s feature %d" if %s_%d' % (st, i, ST, i) for i in range(body)]
            tail = ["# %s end 1" % st, "# %s end 2" % st, "endmenu", "# end of %s" % path]
        else:
            head = [".. SPDX-License-Identifier: GPL-2.0", "%s" % path, "=" * min(70, len(path)),
                    ".. %s overview" % st]
            mid = ["%s paragraph %d describes the %s handling." % (st, i, WORDS[(h + i) % len(WORDS)])
                   for i in range(body)]
            tail = [".. %s end 1" % st, ".. %s end 2" % st, ".. %s end 3" % st, ".. end of %s" % path]
        return tuple(head + mid + tail)

    def new_line(self, rng, path):
        self.u += 1
        u = self.u
        st, style = stem_of(path), file_style(path)
        if style == 'c':
            w = rng.choice(WORDS)
            t = rng.randrange(6)
            if t == 0:
                return "static int %s_%s_%d(struct %s_priv *p) { return p->%s %s %d; }" % (
                    st, rng.choice(VERBS), u, st, w, rng.choice('+-&|^'), rng.randrange(256))
            if t == 1:
                return "\tif (!p->%s_%d) return -EINVAL; /* %s */" % (w, u, st)
            if t == 2:
                return "\tspin_lock(&p->%s_lock_%d); /* %s */" % (w, u, st)
            if t == 3:
                return "\tkfree(p->%s_%d); /* %s */" % (w, u, st)
            if t == 4:
                return "#define %s_%s_%d %d" % (st.upper(), w.upper(), u, rng.randrange(4096))
            return "\tret = %s_%s(p, %d); /* u%d */" % (st, rng.choice(VERBS), rng.randrange(64), u)
        if style == 'make':
            return "obj-$(CONFIG_%s_X%d) += %s_x%d.o" % (st.upper(), u, st, u)
        if style == 'kconfig':
            return '\tdepends on %s_DEP%d' % (st.upper(), u)
        return "%s note %d about %s." % (st, u, rng.choice(WORDS))


def locate(lines, pre, old, post):
    """Index where `old` starts if the exact window pre+old+post occurs in lines, else -1."""
    try:
        j = lines.index(pre[0])
    except ValueError:
        return -1
    k = j + len(pre)
    m = k + len(old)
    if lines[j:k] != pre or lines[k:m] != old or lines[m:m + len(post)] != post:
        return -1
    return k


def locate_loose(lines, pre, old):
    """Index where `old` starts ignoring context (adapted picks), else -1."""
    n = len(lines)
    try:
        if old:
            j = lines.index(old[0])
            if lines[j:j + len(old)] != old:
                return -1
        else:
            j = lines.index(pre[-1]) + 1
    except ValueError:
        return -1
    if j < 4 or j + len(old) > n - 4:
        return -1
    return j


# --------------------------------------------------------------------------- texts

class Texts:
    """Commit texts: sampled from the shared data files, or synthetic."""

    def __init__(self, data_dir, seed, need_sec, need_other):
        self.sec = []     # (subject, body, files)
        self.other = []   # (subject, body, files)
        self.source = 'synthetic'
        if data_dir is None:
            return
        cves = os.path.join(data_dir, 'kernel-cves.jsonl.gz')
        lore = os.path.join(data_dir, 'lore-patches.jsonl.gz')
        if not (os.path.isfile(cves) and os.path.isfile(lore)):
            return
        self.source = 'kernel-cves+lore'
        rng = random.Random("texts:%d" % seed)
        procs = [gz_open(cves), gz_open(lore)]
        for r in sample_records(procs[0], need_sec + need_sec // 8 + 20, rng):
            if len(self.sec) >= need_sec:
                break
            if r.get('state') != 'published' or not r.get('subject') or not r.get('message'):
                continue
            subj = ' '.join(clean_text(r['subject']).split())
            body = strip_trailers(r['message'])
            files = [p for p in (r.get('program_files') or []) if valid_path(p)][:3]
            if subj and body:
                self.sec.append((subj, body, files))
        seen = set()
        for r in sample_records(procs[1], need_other * 2 + 50, rng):
            if len(self.other) >= need_other:
                break
            if (r.get('label') or r.get('rejected_cve_ids') or r.get('stable_backport') or r.get('rfc')
                    or r.get('project') == 'userspace'):
                continue
            subj = ' '.join(clean_text(r.get('clean_subject') or '').split())
            if not subj or subj.lower() in seen or len(subj) > 120:
                continue
            body = strip_trailers(r.get('message') or '')
            if not body:
                continue
            seen.add(subj.lower())
            files = []
            if r.get('project') == 'kernel':
                files = [p for p in (r.get('files') or []) if valid_path(p)][:3]
            self.other.append((subj, body, files))

    def paths(self):
        out = []
        for _, _, files in self.sec + self.other:
            out.extend(files)
        return out


def gz_open(path):
    """Start decompressing path in a gzip child process (parallel to the other file); a line iterator."""
    try:
        proc = subprocess.Popen(["gzip", "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return proc.stdout
    except OSError:
        return gzip.open(path, 'rb')


def sample_records(fh, k, rng):
    """Reservoir sample of k JSON lines read in file order (seeded), in random order, parsed."""
    res = []
    for i, line in enumerate(fh):
        if i < k:
            res.append(line)
        else:
            j = rng.randrange(i + 1)
            if j < k:
                res[j] = line
    fh.close()
    rng.shuffle(res)
    for line in res:
        if line.strip():
            yield json.loads(line)


def valid_path(p):
    return (isinstance(p, str) and len(p) < 200 and PATH_RE.match(p) is not None and p != 'Makefile'
            and '/.' not in p and not p.startswith('.'))


# --------------------------------------------------------------------------- history model

class Commit:
    __slots__ = ('cid', 'sha', 'lane', 'kind', 'subject', 'msg', 'edits', 'touch', 'land', 'ats',
                 'author', 'cve', 'fixes', 'intro', 'upstream', 'style', 'reverts', 'bps', 'vps',
                 'bidx', 'pending', 'rv', 'is_intro', 'cc', 'emitted', 'revmsg_ref', 'anno')

    def __init__(self, cid):
        self.cid = cid
        self.sha = None
        self.lane = None
        self.kind = None
        self.subject = None
        self.msg = None
        self.edits = None
        self.touch = None
        self.land = None
        self.ats = 0
        self.author = None
        self.cve = None
        self.fixes = None
        self.intro = None
        self.upstream = None
        self.style = None
        self.reverts = None
        self.bps = None
        self.vps = None
        self.bidx = None
        self.pending = 0
        self.rv = None
        self.is_intro = False
        self.cc = False
        self.emitted = True
        self.revmsg_ref = None
        self.anno = None


class Lane:
    """A branch being generated: file contents + persistent tree + head."""

    def __init__(self, name, kind, ref):
        self.name = name
        self.kind = kind
        self.ref = ref
        self.files = {}      # path -> 0 (initial content) | tuple of lines
        self.base = None     # topic lanes: master lane (files overlay)
        self.root = None
        self.head = None
        self.commits = []    # stable/vendor: commit ids on the branch (after the base)
        self.fork_step = 0   # stable: master step of the base tag; topic: fork step
        self.ver = None
        self.base_tag = None
        self.tags = []       # stable: (index into commits, tag name, cid)
        self.since_tag = 0
        self.tag_at = 0
        self.alive_until = None
        self.dead = False
        self.parent = None   # vendor: stable lane
        self.fork_idx = -1   # vendor: index in parent.commits of the base tag commit
        self.undo = []       # vendor: per commit (root, head, [(path, old)]) for --vendor-rewrite


class Gen:
    def __init__(self, args, cfg, texts, pack):
        self.args = args
        self.cfg = cfg
        self.texts = texts
        self.seed = args.seed
        self.rng = random.Random("gen:%d" % args.seed)
        self.content = Content(cfg['lines'])
        self.maxlines = cfg.get('maxlines', 1 << 62)
        self.pack = pack
        self.C = []
        self.step = 0
        self.master_steps = []        # cid of the master commit at each step
        self.mtags = []               # (step, name, cid)
        self.tags = {}                # name -> cid
        self.tag_obj = {}             # name -> id of the annotated tag object
        self.events = []
        self.evseq = 0
        self.sched = set()            # (cid, lane name) backports scheduled, not processed
        self.landed = []              # landed mainline non-merge non-release cids
        self.by_path = {}             # path -> last few landed cids touching it
        self.bp_pool = []             # landed cids that got a stable backport
        self.recent = deque(maxlen=300)
        self.mtime = {}               # path -> master step of last change
        self.stables = []
        self.vendors = []
        self.vhold = deque()
        self.sec_i = 0
        self.other_i = 0
        self.cve_n = 0
        self.n_emitted = 0
        self.vendor_rewrite_info = None
        self.pq = deque()
        self.stats = {}
        self.prune_age = 3000
        self.progress_at = 100000 if args.verbose else 0
        self.progress_last = (time.time(), os.times(), 0)

    # ----------------------------------------------------------------- objects
    def write_objs(self, recs):
        add = self.pack.add
        for r in recs:
            add(*r)

    def stat(self, k):
        self.stats[k] = self.stats.get(k, 0) + 1

    # ----------------------------------------------------------------- time
    def tick(self, lo=60, hi=900):
        self.now += self.rng.randint(lo, hi)
        return self.now

    def master_time(self):
        # target time for the next master commit from the release-cycle position
        frac = self.cyc_done / max(1.0, self.cyc_len)
        target = self.cyc_start + int(frac * CYCLE_DAYS * 86400)
        self.now = max(self.now + self.rng.randint(1, 120), target)
        return self.now

    # ----------------------------------------------------------------- files
    def get_lines(self, lane, path):
        v = lane.files.get(path)
        if v is None and lane.base is not None:
            v = lane.base.files.get(path)
        if v is None:
            return None
        if v == 0:
            return self.content.initial(path)
        return v

    def usable(self, lane, path):
        m = self.master
        if path not in m.files or path == 'Makefile':
            return False
        if lane.kind == 'topic':
            return self.mtime.get(path, 0) <= lane.fork_step
        return True

    def random_path(self):
        return self.paths[self.rng.randrange(len(self.paths))]

    def pick_files(self, lane, want, n):
        out = []
        for p in want:
            if len(out) >= n:
                break
            if p not in out and self.usable(lane, p):
                out.append(p)
        tries = 0
        while len(out) < n and tries < 30:
            tries += 1
            p = self.random_path()
            if p not in out and self.usable(lane, p):
                out.append(p)
        return out

    def make_edit(self, lines, path, idx=None, fix=False):
        rng = self.rng
        n = len(lines)
        lo, hi = 4, n - 4
        r = rng.random()
        if idx is None or not (lo <= idx < hi):
            idx = rng.randrange(lo, hi) if hi > lo else lo
        if r < 0.65 and hi > lo:
            a = 2 if (rng.random() < 0.2 and idx + 2 <= hi) else 1
            new = tuple(self.content.new_line(rng, path) for _ in range(rng.randint(1, 2)))
        elif r < 0.9 or hi - lo <= 4:
            a = 0
            new = tuple(self.content.new_line(rng, path) for _ in range(rng.randint(1, 3 if not fix else 2)))
        else:
            a, new = 1, ()
        if n >= self.maxlines and len(new) > a:
            # the files named by many data texts (fs/io_uring.c: 1 in 10) are edited so often
            # that they would grow without bound (~38,000 lines at 1.4M commits), and with them
            # the cost of every commit that touches them: at the cap, replace as many lines as
            # are added
            a = min(len(new), hi - idx)
        old = lines[idx:idx + a]
        edit = (path, lines[idx - 3:idx], old, new, lines[idx + a:idx + a + 3])
        return edit, (path, lines[:idx] + new + lines[idx + a:], (idx, a, len(new)))

    # ----------------------------------------------------------------- commits
    def new_commit(self):
        c = Commit(len(self.C))
        self.C.append(c)
        return c

    def emit(self, lane, c, parents, author, ats, committer, cts, msg, changes, hold=False):
        """Write commit c on lane; changes: list of (path, lines or None[, edit]), edit: where
        lines differ from the lane's current version of path, (k, nold, nnew): lines[k:k + nnew]
        replace its lines [k:k + nold] (a contiguous edit), or the 20-byte id of lines' blob when
        it is already in the pack (the files of a merged topic)."""
        tch = []
        blobs = []
        recs = []       # objects to write: see PackWriter.add
        old_root = lane.root
        files = lane.files
        for ch in changes:
            path, lines = ch[0], ch[1]
            edit = ch[2] if len(ch) > 2 else None
            if lines is None:
                tch.append([path.split('/'), None, None])
                files.pop(path, None)
            elif type(edit) is bytes:
                tch.append([path.split('/'), edit, None])
                files[path] = lines
            else:
                data, sha = blob_of(lines)
                tc = [path.split('/'), sha, None]
                tch.append(tc)
                blobs.append((tc, data, lines, edit, self.get_lines(lane, path)))
                files[path] = lines
        if tch:
            newt = []
            root = tree_update(old_root, tch, 0, newt)
            for tc, data, lines, edit, oldl in blobs:
                # delta base: the previous version of the file on this lane
                if tc[2] is None or tc[2] == tc[1]:
                    recs.append((OBJ_BLOB, tc[1], data))
                elif edit is not None and data.isascii():
                    recs.append((OBJ_BLOB, tc[1], data, tc[2], None, edit_span(oldl, lines, edit, len(data))))
                else:
                    recs.append((OBJ_BLOB, tc[1], data, tc[2], oldl))
            newt.append((root, old_root))
            for t, bt in newt:
                if bt is None:
                    recs.append((OBJ_TREE, t.sha, t.body))
                elif t.span is not None:
                    n = len(t.body)
                    recs.append((OBJ_TREE, t.sha, t.body, bt.sha, None, (t.span[0], n - t.span[1], n)))
                else:
                    recs.append((OBJ_TREE, t.sha, t.body, bt.sha, bt.body))
        else:
            root = old_root
        lane.root = root
        a = ident(author, ats)
        cm = ident(committer, cts)
        m = msg.encode()
        pl = b"".join(b"parent %s\n" % self.C[p].sha.encode() for p in parents)
        body = b"tree %s\n%sauthor %s\ncommitter %s\n\n%s" % (root.sha.hex().encode(), pl, a, cm, m)
        csha = SHA1(b"commit %d\x00%s" % (len(body), body)).digest()
        c.sha = csha.hex()
        c.lane = lane.name
        c.author = author
        c.ats = ats
        recs.append((OBJ_COMMIT, csha, body))
        if hold:
            self.vhold.append((c.cid, recs))
            while len(self.vhold) > self.args.vendor_rewrite:
                self.write_objs(self.vhold.popleft()[1])
        else:
            self.write_objs(recs)
        lane.head = c.cid
        self.n_emitted += 1
        if self.n_emitted == self.progress_at:
            self.progress()
        return c

    def progress(self):
        """--verbose: rate of the last window of commits (the cost per commit must not grow with
        the history), CPU of both processes (the machine may be shared), generator RSS."""
        n = self.n_emitted
        t, ct = time.time(), os.times()
        t0, ct0, n0 = self.progress_last
        wcpu = self.pack.cpu()
        print("gen-history: progress: %d commits, master step %d: %.0f commits/s wall, %.0f commits/s "
              "generator CPU; CPU generator %.1fs, writer %s; RSS %d MiB" % (
                  n, self.step, (n - n0) / max(1e-6, t - t0),
                  (n - n0) / max(1e-6, ct.user + ct.system - ct0.user - ct0.system), ct.user + ct.system,
                  "%.1fs" % wcpu if wcpu is not None else "?",
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024), file=sys.stderr, flush=True)
        self.progress_last = (t, ct, n)
        self.progress_at += 100000

    def tag(self, name, cid, msg, tagger, ts):
        body = b"object %s\ntype commit\ntag %s\ntagger %s\n\n%s" % (
            self.C[cid].sha.encode(), name.encode(), ident(tagger, ts), msg.encode())
        sha = SHA1(b"tag %d\x00%s" % (len(body), body)).digest()
        self.pack.add(OBJ_TAG, sha, body)
        self.tags[name] = cid
        self.tag_obj[name] = sha.hex()

    # ----------------------------------------------------------------- messages
    def prefix_of(self, path):
        parts = path.split('/')
        d = parts[-2] if len(parts) > 1 else stem_of(path)
        if path.startswith('drivers/gpu/drm/') and len(parts) > 4:
            return 'drm/' + parts[3]
        if parts[0] == 'arch' and len(parts) > 2:
            return '%s/%s' % (parts[1], d)
        if parts[0] in ('mm', 'io_uring', 'block', 'kernel', 'fs', 'lib') and len(parts) == 2:
            return parts[0]
        return d

    def synth(self, templates, path):
        rng = self.rng
        st = stem_of(path)
        fn = "%s_%s" % (st, rng.choice(VERBS))
        fn2 = "%s_%s" % (st, rng.choice(VERBS))
        obj = rng.choice(WORDS)
        subj = "%s: %s" % (self.prefix_of(path), rng.choice(templates).format(fn=fn, fn2=fn2, obj=obj))
        sents = [rng.choice(BODY_SENTENCES).format(fn=fn, fn2=fn2, obj=obj) for _ in range(rng.randint(2, 4))]
        body = ' '.join(sents[:2])
        if len(sents) > 2:
            body += '\n\n' + ' '.join(sents[2:])
        return subj, body

    def fixes_line(self, t):
        """A Fixes: trailer for target commit t; returns (raw, target_sha_or_None, malformed)."""
        rng = self.rng
        r = rng.random()
        s = t.sha
        subj = t.subject
        if r < 0.80:
            return 'Fixes: %s ("%s")' % (s[:12], subj), s, False
        if r < 0.85:
            return 'Fixes: %s ("%s")' % (s[:8], subj), s, False
        if r < 0.90:
            return 'Fixes: %s ("%s")' % (s, subj), s, False
        k = rng.randrange(4)
        if k == 0:
            return 'Fixes: %s %s' % (s[:12], subj), s, True           # no ("...")
        if k == 1:
            return 'Fixes: %s' % s[:6], s, True                        # short id, no subject
        if k == 2:
            return 'Fixes: %s ("%s' % (s[:12], subj), s, True         # unterminated
        return 'Fixes: the %s rework' % subj.split(':')[0], None, True  # no id at all

    def person_link(self, author, ts):
        return "https://lore.kernel.org/r/%s.%d-%d-%s" % (
            time.strftime('%Y%m%d%H%M%S', time.gmtime(ts)), self.rng.randrange(1000, 99999),
            self.rng.randint(1, 9), author[1])

    def compose(self, subject, body, author, ts, fixes_raw, kind, committer):
        rng = self.rng
        tr = [raw for raw in fixes_raw]
        cc = False
        if kind in ('sec', 'fix'):
            if rng.random() < 0.35:
                if rng.random() < 0.5:
                    tr.append("Reported-by: syzbot+%010x@syzkaller.appspotmail.com" % rng.getrandbits(40))
                    tr.append("Closes: https://syzkaller.appspot.com/bug?extid=%020x" % rng.getrandbits(80))
                else:
                    p = rng.choice(AUTHORS)
                    tr.append("Reported-by: %s <%s>" % (p[0], p[1]))
                    tr.append("Closes: https://lore.kernel.org/all/%d.%x@%s/" % (
                        ts - 86400 * rng.randint(1, 60), rng.getrandbits(32), p[1].split('@')[1]))
            if rng.random() < (0.6 if kind == 'sec' else 0.3):
                cc = True
                rv = self.rng.choice(self.releases[:max(1, self.cur_rel_idx)])
                tr.append(rng.choice(["Cc: stable@vger.kernel.org",
                                      "Cc: stable@vger.kernel.org # %s.x" % vs(rv),
                                      "Cc: <stable@vger.kernel.org> # v%s+" % vs(rv),
                                      "Cc: stable@vger.kernel.org # v%s+" % vs(rv)]))
        tr.append("Signed-off-by: %s <%s>" % (author[0], author[1]))
        if rng.random() < 0.4:
            p = rng.choice(AUTHORS)
            if p != author:
                tr.append("%s: %s <%s>" % (rng.choice(["Reviewed-by", "Acked-by", "Tested-by"]), p[0], p[1]))
        if rng.random() < 0.5:
            tr.append("Link: " + self.person_link(author, ts))
        if committer != author:
            tr.append("Signed-off-by: %s <%s>" % (committer[0], committer[1]))
        msg = subject + "\n\n" + (body + "\n\n" if body else "") + "\n".join(tr) + "\n"
        return msg, cc

    # ----------------------------------------------------------------- introducers
    def choose_intro(self, lane, hint):
        rng = self.rng
        C = self.C
        if hint and rng.random() < 0.7:
            for p in hint:
                lst = self.by_path.get(p)
                if lst:
                    return C[rng.choice(lst)]
        r = rng.random()
        if r < 0.03 or not self.landed:
            return C[0]
        if r < 0.23 and self.bp_pool:
            for _ in range(4):
                c = C[self.bp_pool[-1 - rng.randrange(min(200, len(self.bp_pool)))]]
                if not c.rv:
                    return c
        n = len(self.landed)
        if r < 0.48:
            k = min(n, max(5, int(self.cycle_units * 1.5)))
            return C[self.landed[n - 1 - rng.randrange(k)]]
        return C[self.landed[rng.randrange(n)]]

    # ----------------------------------------------------------------- mainline commits
    def mainline_commit(self, lane):
        """One non-merge mainline commit on master or on a topic lane."""
        rng = self.rng
        r = rng.random()
        if r < P_SEC:
            kind = 'sec'
        elif r < P_SEC + P_FIX:
            kind = 'fix'
        elif r < P_SEC + P_FIX + P_REVERT and lane is self.master:
            kind = 'revert'
        else:
            kind = 'feat'
        if kind == 'revert':
            c = self.mainline_revert(lane)
            if c is not None:
                return c
            kind = 'fix'
        c = self.new_commit()
        c.kind = kind
        author = rng.choice(AUTHORS)
        committer = rng.choice(MAINTAINERS)
        subj = body = None
        hint = []
        if kind == 'sec':
            if self.texts.sec:
                subj, body, hint = self.texts.sec[self.sec_i % len(self.texts.sec)]
                self.sec_i += 1
            self.cve_n += 1
        elif rng.random() < 0.5 and self.texts.other:
            subj, body, hint = self.texts.other[self.other_i % len(self.texts.other)]
            self.other_i += 1
        intro = None
        fixes = []
        if kind in ('sec', 'fix'):
            intro = self.choose_intro(lane, hint)
            nf = rng.random()
            if kind == 'sec' and nf < 0.12:
                intro = None            # security fix without any Fixes: tag
            if intro is not None:
                targets = [intro]
                if nf > 0.92:
                    for _ in range(rng.randint(1, 2)):
                        t2 = self.choose_intro(lane, None)
                        if t2 not in targets:
                            targets.append(t2)
                fixes = [self.fixes_line(t) for t in targets]
        # files
        if kind == 'feat':
            nfiles = 1 if rng.random() < 0.55 else rng.randint(2, 4)
        else:
            nfiles = 1 if rng.random() < 0.75 else 2
        want = list(hint)
        pinned = {}
        if intro is not None and intro.touch:
            for p, newl in intro.touch:
                if self.usable(lane, p):
                    want.insert(0, p)
                    pinned[p] = newl
                    break
        files = self.pick_files(lane, want, max(nfiles, min(len(want), 2 if kind != 'feat' else 3)))
        if not files:
            files = self.pick_files(lane, [], 1)
        if subj is None:
            subj, body = self.synth(SEC_TEMPLATES if kind == 'sec' else
                                    FIX_TEMPLATES if kind == 'fix' else FEAT_TEMPLATES, files[0])
        # edits
        changes = []
        edits = []
        add_del = None
        if kind == 'feat' and lane is self.master and rng.random() < 0.04:
            add_del = 'add' if rng.random() < 0.7 else 'del'
        for p in files:
            lines = self.get_lines(lane, p)
            idx = None
            if p in pinned:
                for nl in pinned[p]:
                    try:
                        idx = lines.index(nl)
                        break
                    except ValueError:
                        pass
            e, ch = self.make_edit(lines, p, idx, fix=kind != 'feat')
            edits.append(e)
            changes.append(ch)
        if add_del == 'add':
            d = files[0].rsplit('/', 1)[0] if '/' in files[0] else 'lib'
            np_ = "%s/%s_%s%d.c" % (d, stem_of(files[0]), rng.choice(FILE_WORDS), self.content.u)
            if self.ok_new_path(np_):
                lines = tuple(self.content.initial(np_)[:4]) + tuple(
                    self.content.new_line(rng, np_) for _ in range(8)) + tuple(self.content.initial(np_)[-4:])
                changes.append((np_, lines))
                self.add_path(np_)
            edits = None
        elif add_del == 'del':
            victim = self.random_path()
            if victim not in files and victim not in self.data_paths and victim != 'Makefile':
                changes.append((victim, None))
                self.del_path(victim)
                edits = None
        ts = self.master_time() if lane is self.master else self.tick()
        ats = ts - rng.randint(600, 86400 * 10)
        msg, cc = self.compose(subj, body, author, ts, [f[0] for f in fixes], kind, committer)
        c.subject = subj
        c.msg = msg
        c.edits = edits
        c.touch = tuple((e[0], e[3]) for e in edits) if edits else tuple((ch[0], ()) for ch in changes)
        c.fixes = [(raw, self.sha2cid[s] if s else None, mal) for raw, s, mal in fixes]
        c.intro = []
        for _, t, _ in c.fixes:
            if t is not None and t not in c.intro:
                c.intro.append(t)
                self.C[t].is_intro = True
        c.cc = cc
        if kind == 'sec':
            c.cve = "CVE-%s-%d" % (time.strftime('%Y', time.gmtime(ts)), 40000 + self.cve_n)
        c.bps = {}
        self.emit(lane, c, [lane.head], author, ats, committer, ts, msg, changes)
        self.sha2cid[c.sha] = c.cid
        return c

    def ok_new_path(self, p):
        if not valid_path(p) or p in self.master.files:
            return False
        parts = p.split('/')
        for i in range(1, len(parts)):
            if '/'.join(parts[:i]) in self.master.files:
                return False
        return True

    def add_path(self, p):
        self.path_pos[p] = len(self.paths)
        self.paths.append(p)

    def del_path(self, p):
        i = self.path_pos.pop(p)
        last = self.paths.pop()
        if last != p:
            self.paths[i] = last
            self.path_pos[last] = i

    def revert_changes(self, lane, target):
        """Changes and edits that undo target's edits on lane, or None if they do not apply."""
        changes = []
        edits = []
        for (path, pre, old, new, post) in target.edits:
            lines = self.get_lines(lane, path)
            if lines is None:
                return None
            if new:
                k = locate_loose(lines, pre, new)
            else:
                try:
                    k = lines.index(pre[-1]) + 1
                except ValueError:
                    return None
                if k >= len(lines) or lines[k] != post[0]:
                    return None
            if k < 4 or k + len(new) > len(lines) - 4:
                return None
            e = (path, lines[k - 3:k], lines[k:k + len(new)], old, lines[k + len(new):k + len(new) + 3])
            edits.append(e)
            changes.append((path, lines[:k] + old + lines[k + len(new):], (k, len(new), len(old))))
        return changes, edits

    def mainline_revert(self, lane):
        rng = self.rng
        if not self.recent:
            return None
        for _ in range(5):
            t = self.C[self.recent[rng.randrange(len(self.recent))]]
            if t.edits is None or t.rv is not None or t.kind == 'revert' or t.reverts is not None:
                continue
            if any(self.mtime.get(e[0], 0) > t.land for e in t.edits):
                continue
            res = self.revert_changes(lane, t)
            if res is None:
                continue
            changes, edits = res
            self.stat('mainline_revert')
            c = self.new_commit()
            c.kind = 'revert'
            c.reverts = t.cid
            t.rv = set()
            t.is_intro = True
            author = rng.choice(AUTHORS)
            committer = rng.choice(MAINTAINERS)
            ts = self.master_time()
            subj = 'Revert "%s"' % t.subject
            body = "This reverts commit %s.\n\n%s" % (t.sha, rng.choice([
                "It causes a regression on several machines, see the report below.",
                "The change breaks suspend/resume on some systems.",
                "This introduced a deadlock reported by lockdep; revert it for now.",
                "The fix is incomplete and a proper one will follow."]))
            msg, _ = self.compose(subj, body, author, ts, [], 'revert', committer)
            c.subject = subj
            c.msg = msg
            c.edits = edits
            c.touch = tuple((e[0], e[3]) for e in edits)
            c.fixes = []
            c.intro = [t.cid]
            c.bps = {}
            self.emit(lane, c, [lane.head], author, ts - rng.randint(600, 86400 * 3), committer, ts, msg, changes)
            self.sha2cid[c.sha] = c.cid
            return c
        return None

    # ----------------------------------------------------------------- master steps
    def master_advance(self, cid, landed):
        self.step += 1
        self.master_steps.append(cid)
        self.C[cid].land = self.step
        for x in landed:
            c = self.C[x]
            c.land = self.step
            self.on_land(c)
        for p, _ in (self.C[cid].touch or ()):
            self.mtime[p] = self.step
        self.cyc_done += 1
        self.run_events()
        if self.step % 256 == 0:
            self.prune()

    def on_land(self, c):
        if c.kind in ('merge', 'release', 'root'):
            return
        for p, _ in c.touch:
            self.mtime[p] = self.step
            lst = self.by_path.get(p)
            if lst is None:
                self.by_path[p] = [c.cid]
            else:
                lst.append(c.cid)
                if len(lst) > 4:
                    del lst[0]
        self.landed.append(c.cid)
        self.recent.append(c.cid)
        self.pq.append(c.cid)
        if c.edits is None:
            return
        rng = self.rng
        if c.kind == 'sec':
            p = P_BP['sec']
        elif c.kind == 'fix':
            p = P_BP['fixcc'] if c.cc else P_BP['fix']
        elif c.kind == 'revert':
            p = P_BP['revert']
        else:
            p = P_BP['feat']
        for b in self.stables:
            if b.dead or c.land <= b.fork_step:
                continue
            pb = p
            if c.kind == 'revert' and b.name in (self.C[c.reverts].bps or {}):
                pb = 0.9
            if rng.random() < pb:
                self.schedule(rng.randint(1, max(2, int(self.cycle_units * 0.4))), 'bp', c.cid, b)

    def schedule(self, delay, kind, cid, lane, tries=0):
        self.evseq += 1
        heapq.heappush(self.events, (self.step + delay, self.evseq, kind, cid, lane.name, tries))
        self.C[cid].pending += 1
        if kind == 'bp':
            self.sched.add((cid, lane.name))
            self.stat('bp_scheduled')

    def run_events(self):
        ev = self.events
        while ev and ev[0][0] <= self.step:
            _, _, kind, cid, lname, tries = heapq.heappop(ev)
            lane = self.lanes[lname]
            c = self.C[cid]
            c.pending -= 1
            if kind == 'bp':
                self.sched.discard((cid, lname))
                if not lane.dead:
                    self.do_backport(c, lane, tries)
            elif kind == 'srevert':
                if not lane.dead:
                    self.do_stable_revert(c, lane)
            elif kind == 'vpick':
                self.do_vendor_pick(c, lane)

    def prune(self):
        # drop message/edit payloads of old commits that nothing will cherry-pick any more
        pq = self.pq
        C = self.C
        limit = self.step - self.prune_age
        while pq and C[pq[0]].land < limit:
            x = C[pq.popleft()]
            if x.pending <= 0:
                x.msg = None
                x.edits = None

    # ----------------------------------------------------------------- stable
    def present(self, I, b):
        if I.land is not None and I.land <= b.fork_step:
            return True
        return I.bps is not None and b.name in I.bps and not (I.rv and b.name in I.rv)

    def cherry(self, lane, edits, loose=False):
        newfiles = {}
        adapted = False
        for (path, pre, old, new, post) in edits:
            cur = newfiles.get(path) or self.get_lines(lane, path)
            if cur is None:
                return None
            k = locate(cur, pre, old, post)
            if k < 0:
                if not loose:
                    return None
                k = locate_loose(cur, pre, old)
                if k < 0:
                    return None
                adapted = True
            newfiles[path] = (k, len(old), new, cur)
        return newfiles, adapted

    def do_backport(self, c, b, tries):
        rng = self.rng
        if b.name in c.bps or c.edits is None or c.msg is None:
            return
        affected = not c.intro
        for i in c.intro:
            I = self.C[i]
            if self.present(I, b):
                affected = True
                break
            if (i, b.name) in self.sched and tries < 3:
                self.schedule(rng.randint(2, 20), 'bp', c.cid, b, tries + 1)
                self.stat('bp_requeued')
                return
        if not affected and rng.random() > 0.15:
            self.stat('bp_skip_unaffected')
            return
        res = self.cherry(b, c.edits, loose=True)
        if res is None or (res[1] and rng.random() < P_STABLE_ADAPT_SKIP):
            self.stat('bp_no_context')
            return
        self.stat('bp_done' if affected else 'bp_done_unaffected')
        if res[1]:
            self.stat('bp_adapted')
        changes = [(p, cur[:k] + new + cur[k + n:], (k, n, len(new))) for p, (k, n, new, cur) in res[0].items()]
        s = self.new_commit()
        s.kind = 'backport'
        greg = rng.random() < 0.6
        s.style = 'commit_upstream' if greg else 'upstream_bracket'
        s.anno = s.style
        if res[1]:
            s.style = 'adapted'
        sig = STABLE_G if greg else STABLE_S
        subj, rest = c.msg.split('\n\n', 1) if '\n\n' in c.msg else (c.msg.rstrip('\n'), '')
        anno = ("commit %s upstream." if greg else "[ Upstream commit %s ]") % c.sha
        if res[1]:
            rest = rest + "[ %s: adjusted context, the code around it differs in %s ]\n" % (
                sig[0].split()[0], vs(b.ver))
        msg = "%s\n\n%s\n\n%sSigned-off-by: %s <%s>\n" % (subj, anno, rest, sig[0], sig[1])
        s.subject = c.subject
        s.upstream = c.cid
        s.edits = c.edits
        s.fixes = c.fixes
        s.bidx = len(b.commits)
        ts = self.tick()
        self.emit(b, s, [b.head], c.author, c.ats, sig, ts, msg, changes)
        b.commits.append(s.cid)
        c.bps[b.name] = s.cid
        if not self.bp_pool or self.bp_pool[-1] != c.cid:
            self.bp_pool.append(c.cid)
        if c.kind == 'revert':
            t = self.C[c.reverts]
            if b.name in (t.bps or {}):
                s.reverts = t.bps[b.name]
                s.revmsg_ref = t.cid
                t.rv = (t.rv or set()) | {b.name}
        if not c.is_intro and c.kind != 'revert' and rng.random() < P_STABLE_REVERT:
            c.rv = c.rv or set()
            c.is_intro = True   # never choose it as an introducer later
            self.schedule(rng.randint(3, max(4, int(self.cycle_units * 0.3))), 'srevert', s.cid, b)
        for v in self.vendors:
            if v.parent is b and not v.dead and rng.random() < P_VENDOR_PICK:
                self.schedule(rng.randint(1, max(2, int(self.cycle_units * 0.3))), 'vpick', c.cid, v)
        self.stable_count(b)

    def do_stable_revert(self, s, b):
        rng = self.rng
        up = self.C[s.upstream]
        res = self.revert_changes(b, s)
        if res is None:
            self.stat('stable_revert_failed')
            return
        self.stat('stable_revert')
        changes, _ = res
        r = self.new_commit()
        r.kind = 'srevert'
        r.reverts = s.cid
        sig = STABLE_G
        subj = 'Revert "%s"' % s.subject
        msg = ("%s\n\nThis reverts commit %s which is\ncommit %s upstream.\n\n"
               "It causes a regression on this stable branch.\n\n"
               "Link: https://lore.kernel.org/r/%x@stable.example.org\n"
               "Signed-off-by: %s <%s>\n") % (subj, s.sha, up.sha, rng.getrandbits(48), sig[0], sig[1])
        r.subject = subj
        r.bidx = len(b.commits)
        r.fixes = []
        ts = self.tick()
        self.emit(b, r, [b.head], sig, ts - rng.randint(60, 3600), sig, ts, msg, changes)
        b.commits.append(r.cid)
        up.rv = (up.rv or set()) | {b.name}
        self.stable_count(b)

    def stable_count(self, b):
        b.since_tag += 1
        if b.since_tag >= b.tag_at:
            self.stable_release(b)

    def stable_release(self, b):
        rng = self.rng
        n = len(b.tags) + 1
        name = "v%s.%d" % (vs(b.ver), n)
        mk = list(self.get_lines(b, 'Makefile'))
        mk[3] = "SUBLEVEL = %d" % n
        c = self.new_commit()
        c.kind = 'srelease'
        c.subject = "Linux %s.%d" % (vs(b.ver), n)
        c.bidx = len(b.commits)
        c.fixes = []
        ts = self.tick()
        msg = "Linux %s.%d\n\nLink: https://lore.kernel.org/r/%x@stable.example.org\nSigned-off-by: %s <%s>\n" % (
            vs(b.ver), n, rng.getrandbits(48), STABLE_G[0], STABLE_G[1])
        self.emit(b, c, [b.head], STABLE_G, ts, STABLE_G, ts, msg, [('Makefile', tuple(mk), (3, 1, 1))])
        b.commits.append(c.cid)
        b.tags.append((c.bidx, name, c.cid))
        self.tag(name, c.cid, "This is the %s stable release\n" % name[1:], STABLE_G, ts + 1)
        b.since_tag = 0
        lo, hi = self.cfg['tagevery']
        b.tag_at = rng.randint(lo, hi)
        for v in self.vendor_plan:
            if v['parent'] == b.name and v['lane'] is None and n >= v['at_tag']:
                self.create_vendor(v, b, c)

    def create_stable(self, ver, tag_cid):
        name = "linux-%s.y" % vs(ver)
        b = Lane(name, 'stable', "refs/heads/" + name)
        m = self.master
        b.files = dict(m.files)
        b.root = m.root
        b.head = tag_cid
        b.fork_step = self.step
        b.ver = ver
        b.base_tag = "v" + vs(ver)
        lo, hi = self.cfg['tagevery']
        b.tag_at = self.rng.randint(lo, hi)
        if ver not in LTS and ver not in self.forced_lts:
            b.alive_until = self.step + int(self.cycle_units * 2.5)
        self.stables.append(b)
        self.lanes[name] = b

    def create_vendor(self, plan, b, tag_commit):
        name = "vendor/acme-%s" % vs(b.ver)
        v = Lane(name, 'vendor', "refs/heads/" + name)
        v.files = dict(b.files)
        v.root = b.root
        v.head = tag_commit.cid
        v.parent = b
        v.fork_idx = tag_commit.bidx
        v.base_tag = b.tags[-1][1]
        v.hold = (len(self.vendors) == 0 and self.args.vendor_rewrite > 0)
        plan['lane'] = v
        self.vendors.append(v)
        self.lanes[name] = v

    def end_of_life(self):
        for b in self.stables:
            if not b.dead and b.alive_until is not None and self.step >= b.alive_until:
                if b.since_tag:
                    self.stable_release(b)
                b.dead = True

    # ----------------------------------------------------------------- vendor
    def vendor_emit(self, v, c, author, ats, committer, ts, msg, changes):
        snap = (v.root, v.head, [(ch[0], v.files.get(ch[0])) for ch in changes])
        self.emit(v, c, [v.head], author, ats, committer, ts, msg, changes, hold=v.hold)
        c.bidx = len(v.commits)
        v.commits.append(c.cid)
        v.undo.append(snap)

    def do_vendor_pick(self, c, v, style=None, own=True):
        rng = self.rng
        if v.name in (c.vps or {}) or c.edits is None or c.msg is None:
            return None
        if style is None:
            r = rng.random()
            style = 'cherry_pick' if r < 0.55 else 'none' if r < 0.75 else 'adapted'
        res = self.cherry(v, c.edits, loose=True)
        if res is None:
            self.stat('vendor_pick_failed')
            return None
        files, adapted = res
        if adapted:
            style = 'adapted'
        if style == 'adapted' and not adapted:
            if all(not new for (_, _, new, _) in files.values()):
                style = 'cherry_pick'
        changes = []
        for p, (k, n, new, cur) in files.items():
            if style == 'adapted' and not adapted:
                new = tuple(x + " /* acme */" for x in new)
            changes.append((p, cur[:k] + new + cur[k + n:], (k, n, len(new))))
        p = rng.choice(VENDOR_PEOPLE)
        msg = c.msg
        if style == 'cherry_pick':
            msg = msg + "(cherry picked from commit %s)\nSigned-off-by: %s <%s>\n" % (c.sha, p[0], p[1])
        elif style == 'adapted':
            msg = msg + "[acme: adjusted context for %s]\n(backported from commit %s)\nSigned-off-by: %s <%s>\n" % (
                vs(v.parent.ver), c.sha, p[0], p[1])
        x = self.new_commit()
        x.kind = 'vpick'
        x.anno = {'cherry_pick': 'cherry_pick', 'none': 'none', 'adapted': 'backported'}[style]
        self.stat('vendor_pick_' + style)
        x.style = style
        x.upstream = c.cid
        x.subject = c.subject
        x.fixes = c.fixes
        ts = self.tick()
        self.vendor_emit(v, x, c.author, c.ats, p, ts, msg, changes)
        if c.vps is None:
            c.vps = {}
        c.vps[v.name] = x.cid
        if own and rng.random() < P_VENDOR_OWN:
            self.vendor_own(v)
        return x

    def vendor_own(self, v):
        rng = self.rng
        p = rng.choice(VENDOR_PEOPLE)
        files = []
        for _ in range(10):
            f = self.random_path()
            if f in v.files and f not in files:
                files.append(f)
                if len(files) >= rng.randint(1, 2):
                    break
        if not files:
            return
        changes = []
        for f in files:
            changes.append(self.make_edit(self.get_lines(v, f), f)[1])
        subj = "acme: %s: %s" % (self.prefix_of(files[0]), rng.choice([
            "enable %s quirk for Acme boards", "add tunable for %s", "carry out-of-tree %s workaround",
            "bump %s limits for Acme appliances", "log %s events for field diagnostics"]) % rng.choice(WORDS))
        msg = "%s\n\nVendor-only change, not intended for upstream.\n\nSigned-off-by: %s <%s>\n" % (subj, p[0], p[1])
        x = self.new_commit()
        x.kind = 'vown'
        x.subject = subj
        x.fixes = []
        ts = self.tick()
        self.vendor_emit(v, x, p, ts - rng.randint(60, 86400), p, ts, msg, changes)

    def vendor_rewrite(self):
        """--vendor-rewrite K: drop the last K commits of the first vendor branch, add K new ones."""
        k = self.args.vendor_rewrite
        if not k or not self.vendors:
            return
        v = self.vendors[0]
        k = min(k, len(v.commits))
        if k == 0:
            return
        old_head = self.C[v.head].sha
        dropped = v.commits[-k:]
        for cid in reversed(dropped):
            root, head, undo = v.undo.pop()
            for p, old in undo:
                if old is None:
                    v.files.pop(p, None)
                else:
                    v.files[p] = old
            v.root = root
            v.head = head
            v.commits.pop()
            x = self.C[cid]
            x.emitted = False
            if x.upstream is not None and self.C[x.upstream].vps:
                self.C[x.upstream].vps.pop(v.name, None)
            self.n_emitted -= 1
        self.vhold.clear()
        v.hold = False
        self.rng = random.Random("rewrite:%d:%d" % (self.seed, k))
        start = len(v.commits)
        first = self.C[dropped[0]]
        if first.kind == 'vpick':
            up = self.C[first.upstream]
            style = 'adapted' if first.style != 'adapted' else 'cherry_pick'
            self.do_vendor_pick(up, v, style, own=False)
        guard = 0
        while len(v.commits) - start < k and guard < 100 * k:
            guard += 1
            self.vendor_own(v)
        self.vendor_rewrite_info = {
            "branch": v.name, "k": k, "old_head": old_head,
            "dropped": [self.C[c].sha for c in dropped],
            "added": [self.C[c].sha for c in v.commits[start:]]}

    # ----------------------------------------------------------------- topics & releases
    def topic_merge(self):
        rng = self.rng
        m = self.master
        back = rng.randint(0, min(12, len(self.roots) - 1))
        fstep, fcid, froot = self.roots[-1 - back]
        t = Lane('topic', 'topic', 'refs/gen-tmp/topic')
        t.base = m
        t.fork_step = fstep
        t.root = froot
        t.head = fcid
        n = min(20, 2 + int(rng.expovariate(1 / 5.0)))
        tcs = []
        for _ in range(n):
            c = self.mainline_commit(t)
            tcs.append(c)
        if not tcs:
            return
        area = self.area_of(tcs[0].touch[0][0] if tcs[0].touch else 'kernel/x.c')
        rel = vs(self.cur_ver)
        if self.in_merge_window:
            tagname = "%s-next-%s" % (area, rel)
        else:
            tagname = "%s-%s-rc%d" % (area, rel, self.rc_n + 1)
        maint = MAINTAINERS[hash_str(area) % len(MAINTAINERS)]
        url = "git://git.kernel.org/pub/scm/linux/kernel/git/%s/%s.git" % (area, area)
        subj = "Merge tag '%s' of %s" % (tagname, url)
        lst = "\n".join("  " + x.subject for x in reversed(tcs))
        msg = "%s\n\nPull %s updates from %s:\n\n%s\n\n* tag '%s' of %s:\n%s\n" % (
            subj, area, maint[0], "\n".join(" - " + x.subject for x in tcs[:5]), tagname, url, lst)
        # the topic's files as they are in its head: those blobs are already in the pack
        changes = [(p, v, tree_get(t.root, p)) for p, v in t.files.items()]
        self.stat('topic_merge')
        c = self.new_commit()
        c.kind = 'merge'
        c.subject = subj
        c.fixes = []
        c.touch = tuple((ch[0], ()) for ch in changes)
        ts = self.master_time()
        self.emit(m, c, [m.head, t.head], TOP, ts, TOP, ts, msg, changes)
        self.master_advance(c.cid, [x.cid for x in tcs])
        self.roots.append((self.step, c.cid, m.root))

    def area_of(self, path):
        p = path.split('/')
        if p[0] == 'net' or (p[0] == 'drivers' and len(p) > 1 and p[1] == 'net'):
            return 'net'
        if p[0] == 'drivers' and len(p) > 2 and p[1] == 'gpu':
            return 'drm'
        if p[0] == 'arch' and len(p) > 1:
            return p[1]
        if p[0] == 'drivers' and len(p) > 1:
            return p[1]
        return p[0]

    def direct_commit(self):
        c = self.mainline_commit(self.master)
        self.master_advance(c.cid, [c.cid])
        self.roots.append((self.step, c.cid, self.master.root))

    def unit(self):
        if self.rng.random() < P_MERGE_UNIT and len(self.roots) > 1:
            self.topic_merge()
        else:
            self.direct_commit()
        if len(self.roots) > 40:
            del self.roots[:len(self.roots) - 20]

    def release_commit(self, tagname, extra):
        m = self.master
        mk = list(self.get_lines(m, 'Makefile'))
        mk[1] = "VERSION = %d" % self.cur_ver[0]
        mk[2] = "PATCHLEVEL = %d" % self.cur_ver[1]
        mk[4] = "EXTRAVERSION = %s" % extra
        c = self.new_commit()
        c.kind = 'release'
        c.subject = "Linux " + tagname[1:]
        c.fixes = []
        c.touch = (('Makefile', ()),)
        ts = self.master_time()
        msg = "Linux %s\n" % tagname[1:]
        self.emit(m, c, [m.head], TOP, ts, TOP, ts, msg, [('Makefile', tuple(mk), (1, 4, 4))])
        self.sha2cid[c.sha] = c.cid
        self.master_advance(c.cid, [])
        self.roots.append((self.step, c.cid, m.root))
        self.tag(tagname, c.cid, "Linux %s\n" % tagname[1:], TOP, ts + 1)
        self.mtags.append((self.step, tagname, c.cid))
        return c

    # ----------------------------------------------------------------- driver
    def run(self):
        cfg = self.cfg
        rng = self.rng
        R = cfg['releases']
        first = cfg['first']
        self.releases = [first]
        for _ in range(R - 1):
            self.releases.append(vnext(self.releases[-1]))
        root_ver = vprev(first)
        self.inprogress = vnext(self.releases[-1])
        self.forced_lts = set()
        nst = cfg['stable']
        lts = [v for v in reversed(self.releases) if v in LTS]
        chosen = lts[:nst]
        for v in reversed(self.releases):
            if len(chosen) >= nst:
                break
            if v not in chosen:
                chosen.append(v)
        if not any(v in LTS for v in chosen) and chosen:
            self.forced_lts.add(min(chosen))
        self.stable_vers = sorted(chosen)
        lts_chosen = sorted(v for v in self.stable_vers if v in LTS or v in self.forced_lts)
        lts_chosen = [v for v in lts_chosen if v != self.releases[-1]] or lts_chosen
        self.vendor_plan = []
        at_tag = {'tiny': 1, 'small': 2}.get(self.args.scale, 4)
        for v in lts_chosen[:cfg['vendors']]:
            self.vendor_plan.append({'parent': "linux-%s.y" % vs(v), 'at_tag': at_tag, 'lane': None})
        # commit budget: mainline non-merge commits per cycle
        total = cfg['commits']
        mainline = total * cfg['mshare']
        ncycles = R + 0.45
        self.cycle_units = max(8.0, mainline / ncycles / (1 + P_MERGE_UNIT * 6))
        # dates
        self.t0 = END_EPOCH - int((R + 0.6) * CYCLE_DAYS * 86400) + (self.seed % 97) * 3671
        self.now = self.t0
        self.cyc_start, self.cyc_done, self.cyc_len = self.t0, 0, 1
        # initial tree
        self.sha2cid = {}
        self.lanes = {}
        m = Lane('master', 'mainline', 'refs/heads/master')
        self.master = m
        self.lanes['master'] = m
        self.build_initial(root_ver)
        self.roots = [(0, 0, m.root)]
        # cycles
        for ci in range(R + 1):
            last = ci == R
            self.cur_ver = self.releases[ci] if not last else self.inprogress
            self.cur_rel_idx = ci
            self.cyc_start = self.t0 + int((ci + 0.1) * CYCLE_DAYS * 86400) + rng.randint(0, 86400 * 3)
            n_rc = rng.randint(5, 8)
            units = self.cycle_units * rng.uniform(0.85, 1.15)
            self.cyc_len = units * 1.1
            self.cyc_done = 0
            points = [('-rc1', 0.55)] + [('-rc%d' % k, 0.55 + (k - 1) * 0.45 / n_rc) for k in range(2, n_rc + 1)]
            points.append(('', 1.0))
            if last:
                points = points[:3]
            done = 0
            self.in_merge_window = True
            self.rc_n = 0
            for extra, frac in points:
                goal = max(int(units * frac), done + 1)
                while done < goal:
                    self.unit()
                    done += 1
                tagname = "v%s%s" % (vs(self.cur_ver), extra)
                c = self.release_commit(tagname, extra)
                self.in_merge_window = False
                self.rc_n += 1
                self.end_of_life()
                if extra == '' and self.cur_ver in self.stable_vers:
                    self.create_stable(self.cur_ver, c.cid)
            if last:
                for _ in range(max(2, int(units * 0.08))):
                    self.unit()
        # flush remaining due events (only those already due), leave the rest unapplied
        for v in self.vendor_plan:
            if v['lane'] is None:
                b = self.lanes[v['parent']]
                if b.tags:
                    self.create_vendor(v, b, self.C[b.tags[-1][2]])
        self.vendor_rewrite()
        while self.vhold:
            self.write_objs(self.vhold.popleft()[1])

    def build_initial(self, root_ver):
        rng = random.Random("paths:%d" % self.seed)
        target = self.cfg['files']
        files = {}
        dirs = set()

        def add(p):
            if p in files or p in dirs or not valid_path(p):
                return False
            parts = p.split('/')
            for i in range(1, len(parts)):
                if '/'.join(parts[:i]) in files:
                    return False
            files[p] = 0
            for i in range(1, len(parts)):
                dirs.add('/'.join(parts[:i]))
            return True
        self.data_paths = set()
        for p in self.texts.paths():
            if add(p):
                self.data_paths.add(p)
        base = list(BASE_DIRS)
        if target < 600:
            base = rng.sample(base, max(20, target // 8))
        want_dirs = max(len(base), target // 25)
        dlist = list(base)
        dset = set(dlist)
        guard = 0
        while len(dlist) < want_dirs and guard < want_dirs * 20:
            guard += 1
            parent = rng.choice(dlist)
            if parent.count('/') >= 5:
                continue
            d = parent + '/' + rng.choice(SUBDIR_WORDS)
            if d not in dset and d not in files:
                dset.add(d)
                dlist.append(d)
        nsyn = max(target // 3, target - len(files))
        made = 0
        guard = 0
        while made < nsyn and guard < nsyn * 10:
            guard += 1
            d = rng.choice(dlist)
            r = rng.random()
            bn = d.rsplit('/', 1)[-1]
            if r < 0.06:
                name = 'Makefile'
            elif r < 0.09:
                name = 'Kconfig'
            elif r < 0.25:
                name = "%s_%s.h" % (bn, rng.choice(FILE_WORDS))
            elif r < 0.6:
                name = "%s_%s.c" % (bn, rng.choice(FILE_WORDS))
            else:
                name = "%s%s.c" % (rng.choice(FILE_WORDS), rng.choice(['', '_' + rng.choice(WORDS), str(rng.randrange(100))]))
            if add(d + '/' + name):
                made += 1
        makefile = ("# SPDX-License-Identifier: GPL-2.0", "VERSION = %d" % root_ver[0],
                    "PATCHLEVEL = %d" % root_ver[1], "SUBLEVEL = 0", "EXTRAVERSION =",
                    "NAME = Synthetic Sloth", "# *DOCUMENTATION*", "# To see a list of typical targets run make help",
                    "MAKEFLAGS += -rR", "export LC_COLLATE LC_NUMERIC", "unexport GREP_OPTIONS", "quiet_cmd_x = X")
        m = self.master
        paths = sorted(files)
        pb = []
        add = self.pack.add
        for p in paths:
            data, sha = blob_of(self.content.initial(p))
            pb.append((p, sha))
            add(OBJ_BLOB, sha, data)
        data, sha = blob_of(makefile)
        pb.append(('Makefile', sha))
        add(OBJ_BLOB, sha, data)
        newt = []
        m.root = build_tree(pb, newt)
        for t in newt:
            add(OBJ_TREE, t.sha, t.body)
        m.files = {p: 0 for p in paths}
        m.files['Makefile'] = makefile
        self.paths = list(paths)
        self.path_pos = {p: i for i, p in enumerate(self.paths)}
        c = self.new_commit()
        c.kind = 'root'
        c.subject = "Linux-%s" % vs(root_ver)
        c.fixes = []
        c.intro = []
        c.bps = {}
        c.touch = ()
        ts = self.now
        msg = "Linux-%s\n\nInitial import of the synthetic kernel tree.\n" % vs(root_ver)
        a = ident(TOP, ts)
        mm = msg.encode()
        body = b"tree %s\nauthor %s\ncommitter %s\n\n%s" % (m.root.sha.hex().encode(), a, a, mm)
        csha = SHA1(b"commit %d\x00%s" % (len(body), body)).digest()
        add(OBJ_COMMIT, csha, body)
        c.sha = csha.hex()
        c.lane = 'master'
        c.author = TOP
        c.ats = ts
        c.land = 0
        c.edits = None
        m.head = 0
        self.n_emitted += 1
        self.sha2cid[c.sha] = 0
        self.master_steps.append(0)
        self.tag("v" + vs(root_ver), 0, "Linux %s\n" % vs(root_ver), TOP, ts + 1)
        self.mtags.append((0, "v" + vs(root_ver), 0))


def hash_str(s):
    return int.from_bytes(hashlib.md5(s.encode()).digest()[:4], 'little')


# --------------------------------------------------------------------------- ground truth

def relver(tag):
    return tag[1:].split('-')[0]


def build_truth(g, args, scale):
    C = g.C
    full = scale in FULL_TRUTH_SCALES or (g.n_emitted <= 20000)
    mt_steps = [s for s, _, _ in g.mtags]

    def mtag(c):
        i = bisect.bisect_left(mt_steps, c.land)
        return g.mtags[i][1] if i < len(g.mtags) else None

    def mver(c):
        t = mtag(c)
        return relver(t) if t else vs(g.inprogress)

    tidx = {b.name: [t[0] for t in b.tags] for b in g.stables}

    def stag(b, c):
        i = bisect.bisect_left(tidx[b.name], c.bidx)
        return b.tags[i][1] if i < len(b.tags) else None

    def sver(b, c):
        t = stag(b, c)
        return (t[1:], True) if t else ("%s.%d" % (vs(b.ver), len(b.tags) + 1), False)

    branches = {"master": {"kind": "mainline", "head": C[g.master.head].sha}}
    for b in g.stables:
        branches[b.name] = {"kind": "stable", "base_tag": b.base_tag, "head": C[b.head].sha,
                            "lts": b.alive_until is None, "eol": b.dead}
    for v in g.vendors:
        branches[v.name] = {"kind": "vendor", "base_tag": v.base_tag, "head": C[v.head].sha,
                            "parent": v.parent.name}
    tags = {name: C[cid].sha for name, cid in g.tags.items()}

    emitted = [c for c in C if c.emitted and c.sha is not None]
    mainline_nm = [c for c in emitted if c.lane == 'master' or (c.lane == 'topic')]
    mainline_nm = [c for c in mainline_nm if c.kind != 'merge']

    # first_release
    if full:
        fr_set = emitted
    else:
        stride = max(1, len(emitted) // 6000)
        fr_set = emitted[::stride]
    first_release = {}
    for c in fr_set:
        e = {"mainline": mtag(c) if c.land is not None else None}
        if c.bidx is not None and c.lane in tidx:
            e[c.lane] = stag(g.lanes[c.lane], c)
        first_release[c.sha] = e

    # backports and reverts
    backports = []
    reverts = []
    for c in emitted:
        if c.upstream is not None:
            backports.append({"branch": c.lane, "commit": c.sha, "upstream": C[c.upstream].sha,
                              "style": c.style, "annotation": c.anno})
        if c.reverts is not None:
            e = {"commit": c.sha, "reverts": C[c.reverts].sha, "branch": c.lane}
            if c.revmsg_ref is not None:
                e["message_reverts"] = C[c.revmsg_ref].sha
            reverts.append(e)

    # fixes
    fix_commits = [c for c in mainline_nm if c.kind == 'sec' or c.kind == 'revert' or (c.fixes and c.intro)]
    fix_commits += [c for c in mainline_nm if c.kind == 'fix' and c.fixes and not c.intro]
    fix_commits.sort(key=lambda c: c.cid)
    if not full and scale in ('large', 'huge'):
        others = [c for c in fix_commits if c.kind != 'sec']
        stride = max(1, len(others) // 20000)
        keep = set(c.cid for c in others[::stride])
        fix_commits = [c for c in fix_commits if c.kind == 'sec' or c.cid in keep]

    def vendor_carrier(v, X):
        """Commit on vendor v that carries mainline commit X, or None."""
        b = v.parent
        if X.land is not None and X.land <= b.fork_step:
            return X
        if X.bps and b.name in X.bps:
            s = C[X.bps[b.name]]
            if s.bidx <= v.fork_idx:
                return s
        if X.vps and v.name in X.vps and C[X.vps[v.name]].emitted:
            return C[X.vps[v.name]]
        return None

    fixes = []
    for F in fix_commits:
        intro = sorted((C[i] for i in F.intro), key=lambda c: (c.land, c.cid))
        fv = mver(F)
        lines = []
        br = {}
        for b in g.stables:
            if F.land <= b.fork_step:
                br[b.name] = None
                continue
            vuln = None
            for I in intro:
                if I.land <= b.fork_step:
                    vuln = (mver(I), I.sha)
                    break
            if vuln is None:
                cands = [C[I.bps[b.name]] for I in intro
                         if I.bps and b.name in I.bps and not (I.rv and b.name in I.rv)]
                if cands:
                    s = min(cands, key=lambda x: x.bidx)
                    vuln = (sver(b, s)[0], s.sha)
            fixc = None
            if F.bps and b.name in F.bps and not (F.rv and b.name in F.rv):
                fixc = C[F.bps[b.name]]
            if not intro:
                if fixc is None:
                    br[b.name] = None
                    continue
                vuln = ("0", "0")
            if vuln is None:
                br[b.name] = None
                continue
            if fixc is not None:
                fxv, rel = sver(b, fixc)
                fx = (fxv, fixc.sha)
            else:
                fx, rel = ("0", "0"), False
            lines.append("%s:%s:%s:%s" % (vuln[0], vuln[1], fx[0], fx[1]))
            e = {"vuln_version": vuln[0], "vuln_sha": vuln[1], "fix_version": fx[0], "fix_sha": fx[1],
                 "fix_released": rel}
            if F.bps and b.name in F.bps and F.rv and b.name in F.rv:
                e["reverted_backport"] = C[F.bps[b.name]].sha
            br[b.name] = e
        for v in g.vendors:
            carriers = [x for x in (vendor_carrier(v, I) for I in intro) if x is not None]
            fc = vendor_carrier(v, F)
            if intro and not carriers:
                br[v.name] = None
                continue
            if not intro and fc is None:
                br[v.name] = None
                continue
            br[v.name] = {"vuln_version": None, "vuln_sha": carriers[0].sha if carriers else "0",
                          "fix_version": None, "fix_sha": fc.sha if fc else "0"}
        if intro:
            lines.append("%s:%s:%s:%s" % (mver(intro[0]), intro[0].sha, fv, F.sha))
        else:
            lines.append("0:0:%s:%s" % (fv, F.sha))
        fixes.append({"fix": F.sha, "cve": F.cve, "security": F.kind == 'sec', "subject": F.subject,
                      "kind": F.kind, "mainline_version": fv,
                      "introducers": [I.sha for I in intro], "dyad": lines, "branches": br})

    # fixes_tags
    fixes_tags = {}
    fixset = set(F.cid for F in fix_commits)
    for c in emitted:
        if not c.fixes:
            continue
        up = c.upstream if c.upstream is not None else c.cid
        if not full and up not in fixset:
            continue
        fixes_tags[c.sha] = [{"raw": raw, "target": C[t].sha if t is not None else None, "malformed": mal}
                             for raw, t, mal in c.fixes]

    # labels
    lab = mainline_nm
    if not full:
        stride = max(1, len(lab) // 20000)
        lab = lab[::stride]
    labels = {c.sha: (1 if c.kind == 'sec' else 0) for c in lab}

    truth = {
        "generator": {"seed": args.seed, "scale": scale, "commits": g.n_emitted, "data": g.texts.source,
                      "files": len(g.paths) + 1, "full": full,
                      "stable_versions": [vs(v) for v in g.stable_vers],
                      "in_progress_version": vs(g.inprogress), "vendor_rewrite": args.vendor_rewrite},
        "branches": branches,
        "tags": tags,
        "first_release": first_release,
        "backports": backports,
        "reverts": reverts,
        "fixes_tags": fixes_tags,
        "fixes": fixes,
        "labels": labels,
    }
    if g.vendor_rewrite_info:
        truth["vendor_rewrite"] = g.vendor_rewrite_info
    return truth


def dump_json(obj, f):
    """Same bytes as json.dump(obj, f, sort_keys=True, indent=1) (str keys, no floats), about
    3x faster: json's indenting encoder is pure Python generators."""
    out = []
    app = out.append
    es = json.encoder.encode_basestring_ascii

    def enc(o, lvl):
        t = type(o)
        if t is str:
            app(es(o))
        elif t is dict:
            if not o:
                app('{}')
                return
            ind = '\n' + ' ' * (lvl + 1)
            sep = ',' + ind
            app('{' + ind)
            first = True
            for k in sorted(o):
                if first:
                    first = False
                else:
                    app(sep)
                v = o[k]
                tv = type(v)
                if tv is str:
                    app(es(k) + ': ' + es(v))
                else:
                    app(es(k) + ': ')
                    enc(v, lvl + 1)
            app('\n' + ' ' * lvl + '}')
            if len(out) > 65536:
                f.write(''.join(out))
                del out[:]
        elif t is list or t is tuple:
            if not o:
                app('[]')
                return
            ind = '\n' + ' ' * (lvl + 1)
            sep = ',' + ind
            app('[' + ind)
            first = True
            for v in o:
                if first:
                    first = False
                else:
                    app(sep)
                if type(v) is str:
                    app(es(v))
                else:
                    enc(v, lvl + 1)
            app('\n' + ' ' * lvl + ']')
        elif o is None:
            app('null')
        elif o is True:
            app('true')
        elif o is False:
            app('false')
        elif t is int:
            app(int.__repr__(o))
        else:
            raise TypeError("dump_json: unsupported %r" % t)
    enc(obj, 0)
    f.write(''.join(out))


# --------------------------------------------------------------------------- main

def git(out, *a, **kw):
    return subprocess.run(["git", "-C", out] + list(a), check=True, **kw)


def tune_malloc():
    """Keep freed heap memory instead of trimming and re-faulting it (zlib allocates ~200 KiB
    per compressed object)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 << 20)      # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)       # M_TRIM_THRESHOLD
        libc.mallopt(-2, 64 << 20)      # M_TOP_PAD
    except (OSError, AttributeError, ImportError):
        pass


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Generate a kernel-shaped git history with ground truth.")
    ap.add_argument('--out', required=True, help="repository directory to create (or update, see --vendor-rewrite)")
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--scale', choices=sorted(SCALES), default='tiny')
    ap.add_argument('--commits', type=int, help="override the total commit target")
    ap.add_argument('--stable', type=int, help="override the number of stable branches")
    ap.add_argument('--data', default=os.path.normpath(os.path.join(here, '..', '..', 'shared', 'data')))
    ap.add_argument('--no-data', action='store_true', help="use built-in synthetic texts only")
    ap.add_argument('--truth', help="ground truth path (default: next to DIR, <basename>.truth.json)")
    ap.add_argument('--vendor-rewrite', type=int, default=0, metavar='K',
                    help="replace the last K commits of the first vendor branch (force-push simulation)")
    ap.add_argument('--quiet', action='store_true')
    ap.add_argument('--verbose', action='store_true', help="print generation statistics")
    # tests: put pack offsets above this into the index's 64-bit table (git index-pack
    # --index-version=2,N), to exercise the > 2 GiB layout on small packs
    ap.add_argument('--pack-off32-limit', type=int, default=0x7fffffff, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    t_start = time.time()
    tune_malloc()
    # tens of millions of long-lived objects and (almost) no reference cycles: the cyclic
    # collector's full passes would cost ~15 % of the CPU at 30k commits, more at huge
    gc.disable()
    cfg = dict(SCALES[args.scale])
    if args.commits:
        cfg['commits'] = max(30, args.commits)
        cfg['files'] = max(60, min(cfg['files'], args.commits))
    if args.stable is not None:
        cfg['stable'] = max(0, args.stable)
        cfg['releases'] = max(cfg['releases'], args.stable + 1)
        cfg['vendors'] = min(cfg['vendors'], args.stable)
    out = os.path.abspath(args.out)
    truth_path = args.truth or os.path.join(os.path.dirname(out), os.path.basename(out) + '.truth.json')

    mshare = cfg['mshare']
    n_main = cfg['commits'] * mshare
    need_sec = int(n_main * P_SEC * 1.3) + 10
    need_other = int(n_main * 0.6) + 10
    data_dir = None if args.no_data else args.data
    texts = Texts(data_dir, args.seed, need_sec, need_other)
    t_data = time.time()

    if os.path.exists(out) and os.listdir(out) and not os.path.isdir(os.path.join(out, '.git')):
        sys.exit("gen-history: %s exists and is not a git repository" % out)
    os.makedirs(out, exist_ok=True)
    git(out, 'init', '-q', stdout=subprocess.DEVNULL)
    git(out, 'symbolic-ref', 'HEAD', 'refs/heads/master')
    pack = PackProcess(os.path.join(out, '.git'), args.pack_off32_limit)
    g = Gen(args, cfg, texts, pack)
    g.run()
    t_gen = time.time()
    pack_path = pack.finish()
    t_pack = time.time()
    # refs of the run: branch heads and annotated tags (force-updated, other refs left alone)
    upd = [(lane.ref, g.C[lane.head].sha) for lane in [g.master] + g.stables + g.vendors]
    upd += [('refs/tags/' + name, g.tag_obj[name]) for name in g.tags]
    git(out, 'update-ref', '--stdin', input="".join("update %s %s\n" % u for u in upd).encode())
    # git must read back what was computed: every ref peels to the computed commit
    res = subprocess.run(["git", "-C", out, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)"],
                         check=True, capture_output=True, text=True).stdout.split('\n')
    have = {}
    for line in res:
        if line:
            p = line.split(' ')
            have[p[0]] = p[2] if len(p) > 2 and p[2] else p[1]
    bad = []
    for lane in [g.master] + g.stables + g.vendors:
        if have.get(lane.ref) != g.C[lane.head].sha:
            bad.append((lane.ref, have.get(lane.ref), g.C[lane.head].sha))
    for name, cid in g.tags.items():
        if have.get('refs/tags/' + name) != g.C[cid].sha:
            bad.append((name, have.get('refs/tags/' + name), g.C[cid].sha))
    if bad:
        for b in bad[:10]:
            print("gen-history: MISMATCH %s: git=%s computed=%s" % b, file=sys.stderr)
        sys.exit("gen-history: git does not read back the computed ids")

    truth = build_truth(g, args, args.scale)
    tmp = truth_path + '.tmp'
    with open(tmp, 'w') as f:
        dump_json(truth, f)
        f.write('\n')
    os.replace(tmp, truth_path)
    if len(g.paths) <= 20000:
        git(out, 'checkout', '-q', '-f', 'master')
    t_end = time.time()
    if args.verbose:
        print("gen-history: stats: " + " ".join("%s=%d" % kv for kv in sorted(g.stats.items())), file=sys.stderr)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        print("gen-history: pack %s: %d bytes, %d whole objects, %d deltas, %d duplicates skipped; "
              "%d wrong delta bases; writer process: peak RSS %d MiB, CPU %.1fs; generator process: peak RSS %d MiB, "
              "CPU %.1fs" % (pack_path, os.path.getsize(pack_path), pack.stats[0], pack.stats[1], pack.stats[2],
                             pack.stats[3], pack.stats[4] // 1024, pack.stats[5], ru.ru_maxrss // 1024,
                             ru.ru_utime + ru.ru_stime),
              file=sys.stderr)
    if not args.quiet:
        print("gen-history: %s scale=%s seed=%d commits=%d files=%d stable=%d vendor=%d data=%s "
              "(data %.1fs, generate %.1fs, pack index %.1fs, truth %.1fs, total %.1fs)" % (
                  out, args.scale, args.seed, g.n_emitted, len(g.paths) + 1, len(g.stables), len(g.vendors),
                  texts.source, t_data - t_start, t_gen - t_data, t_pack - t_gen, t_end - t_pack,
                  t_end - t_start), file=sys.stderr)


if __name__ == '__main__':
    main()
