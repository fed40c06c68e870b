#!/usr/bin/python3
"""
selection_vs_duplicity.py: compare arca's file selection and walk order
with real duplicity 0.8.22 (spec §13, §6.4).

    /usr/bin/python3 selection_vs_duplicity.py PATH/TO/test_walk

For each set of selection options, back up a test tree with
`duplicity full --no-encryption`, read the stored paths back with
`duplicity list-current-files`, and compare them, in order, with what
`test_walk --list SRC OPTIONS` selects.  Option sets that duplicity
refuses must be refused by arca too.

Exit 0 when everything agrees, 1 with a diff otherwise, 77 (skip) when
duplicity or the helper is missing.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

DUPLICITY = shutil.which("duplicity") or "/usr/bin/duplicity"
# "Thu Jan  1 00:00:00 2020 path": time.asctime() then the relative path.
LIST_RE = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} (.*)$")


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def write(path, data=b"x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def build_tree(src):
    """The spec §13 tree plus names that sort differently joined."""
    for rel in ["a/b/x.py", "a/b/y.txt", "a/c/z.py", "d/w.txt",
                "Upper/File.TXT", "top.py", "a-c", "a.b", "a.b.dir/q.py",
                "-dash", ".hidden/h.py", "sp ace/f i le.txt",
                "caf\u00e9/\u00e9t\u00e9.py", "nested/deep/er/n.py",
                "nested/deep/er/n.txt", "nested/other/o.py",
                "nested/empty_ish/e.txt", "old/old.txt", "old/new.txt",
                "old/sub/old.py", "m/k.nobackup/x"]:
        write(os.path.join(src, rel), rel.encode())
    write(os.path.join(src, "d/.nobackup"), b"")
    write(os.path.join(src, "nested/other/.nobackup"), b"")
    os.makedirs(os.path.join(src, "emptydir"))
    os.symlink("a/c", os.path.join(src, "lnk"))
    os.symlink("/nonexistent", os.path.join(src, "dangling.py"))
    os.mkfifo(os.path.join(src, "fifo"))
    # A socket: both must skip it.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(src, "sock"))
    try:
        os.mknod(os.path.join(src, "null"), 0o600 | 0o020000,
                 os.makedev(1, 3))
    except OSError as e:
        print("note: no device node in the tree (%s)" % e)
    # Old and new regular files for --exclude-older-than 1500000000.
    for rel, t in [("old/old.txt", 1000000000), ("old/new.txt", 2000000000),
                   ("old/sub/old.py", 1499999999), ("top.py", 1500000000)]:
        os.utime(os.path.join(src, rel), (t, t))
    os.utime(os.path.join(src, "old"), (1000, 1000))
    return s


def option_sets(src, tmp):
    S = src
    fl1 = os.path.join(tmp, "list1")
    with open(fl1, "w") as f:
        f.write("# comment\n+ %s/a/b/x.py\n- %s/a\n%s/d\n- **\n"
                % (S, S, S))
    fl2 = os.path.join(tmp, "list2")
    with open(fl2, "wb") as f:
        f.write(("  + '%s/nested/deep'  \r\n\r\n#%s/a\r\n\"%s/nested\"\r\n"
                 "- %s/a/b\n+ %s/a\n%s/Upper/\n"
                 % (S, S, S, S, S, S)).encode())
    fl3 = os.path.join(tmp, "list3")
    with open(fl3, "wb") as f:
        f.write(("%s/sp ace\0+ %s/a/c\0- **\0" % (S, S)).encode())
    return [
        [],
        ["--include", "**.py", "--exclude", "**"],
        ["--exclude", S + "/a", "--include", S + "/a/b",
         "--exclude", S + "/d"],
        ["--include", S + "/a/b", "--exclude", S + "/a"],
        ["--include", "ignorecase:" + S + "/upper/*.txt",
         "--exclude", "**"],
        ["--exclude-if-present", ".nobackup"],
        ["--include", S + "/nested", "--exclude", "**",
         "--exclude-if-present", ".nobackup"],
        ["--include-filelist", fl1],
        ["--exclude-filelist", fl2],
        ["--null-separator", "--include-filelist", fl3],
        ["--include", S + "/*/", "--exclude", "**"],
        ["--include", S + "/**/", "--exclude", "**"],
        ["--exclude", S + "/a/b/", "--exclude", S + "/top.py/"],
        ["--include-regexp", r"\.py$", "--exclude-regexp", "b/",
         "--exclude", "**"],
        ["--exclude-regexp", "^" + re.escape(S) + "/[a-d]",
         "--exclude-regexp", "(txt|TXT)$"],
        ["--exclude", S + "/[a-c]*", "--exclude", S + "/**/?.txt"],
        ["--include", S + "/[!a-m]*", "--exclude", "**"],
        ["--include", S + "/a-c", "--include", S + "/a.b",
         "--exclude", S + "/a*"],
        ["--include", "**/\u00e9*", "--exclude", S + "/sp*",
         "--include", S + "/sp ace/f?i*", "--exclude", "**"],
        ["--exclude", S + "/nested/deep/", "--include", S + "/nested",
         "--exclude", "**"],
        ["--include", S + "/nested/*/er/n.py", "--include", S + "/lnk",
         "--include", S + "/fifo", "--exclude", "**"],
        ["--exclude-device-files", "--exclude", S + "/a"],
        ["--exclude-older-than", "1500000000"],
        ["--include", "**/*.nobackup/**", "--exclude", "**"],
        ["--exclude", S + "/emptydir", "--include", "**y*",
         "--exclude", "**"],
        # Refused by both.
        ["--include", S + "/a", "--exclude-if-present", ".nobackup"],
        ["--include", "a", "--exclude", "**"],
        ["--exclude", S + "//a"],
        ["--include", S + "/a"],
    ]


def run_duplicity(src, opts, work, n):
    arch = os.path.join(work, "arch%d" % n)
    target = "file://" + os.path.join(work, "target%d" % n)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("PASSPHRASE", None)
    common = ["--no-encryption", "--archive-dir", arch, "--name", "n"]
    r = subprocess.run([DUPLICITY, "full"] + common + opts + [src, target],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode,
                                      r.stderr.decode(errors="replace")
                                      .strip().splitlines()[-1:])
    r = subprocess.run([DUPLICITY, "list-current-files"] + common +
                       [target], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env)
    if r.returncode != 0:
        raise RuntimeError("list-current-files failed: " +
                           r.stderr.decode(errors="replace"))
    out = []
    for line in r.stdout.decode("utf-8", errors="surrogateescape") \
            .splitlines():
        m = LIST_RE.match(line)
        if m:
            out.append(m.group(1))
    return out, None


def run_arca(helper, src, opts):
    r = subprocess.run([helper, "--list", src] + opts,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        return None, r.stderr.decode(errors="replace").strip()
    return (r.stdout.decode("utf-8", errors="surrogateescape")
            .splitlines(), None)


def main():
    if len(sys.argv) != 2:
        print("usage: selection_vs_duplicity.py PATH/TO/test_walk")
        return 2
    helper = sys.argv[1]
    if not os.access(helper, os.X_OK):
        skip("helper %s not executable" % helper)
    if not os.access(DUPLICITY, os.X_OK):
        skip("duplicity not installed")
    tmp = tempfile.mkdtemp(prefix="arca-selcmp-")
    bad = 0
    try:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        sock = build_tree(src)
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        sets = option_sets(src, tmp)
        for n, opts in enumerate(sets):
            shown = " ".join(o.replace(src, "SRC") for o in opts)
            dup, derr = run_duplicity(src, opts, work, n)
            ours, oerr = run_arca(helper, src, opts)
            if dup is None and ours is None:
                print("ok    %s (both refuse)" % shown)
                continue
            if dup == ours:
                print("ok    %s (%d entries)" % (shown, len(ours)))
                continue
            bad += 1
            print("DIFF  %s" % shown)
            if dup is None:
                print("      duplicity refused: %s" % derr)
                print("      arca selected: %s" % ours)
                continue
            if ours is None:
                print("      arca refused: %s" % oerr)
                print("      duplicity selected: %s" % dup)
                continue
            for x in dup:
                if x not in ours:
                    print("      - only duplicity: %r" % x)
            for x in ours:
                if x not in dup:
                    print("      + only arca:      %r" % x)
            if sorted(dup) == sorted(ours):
                print("      same set, different order:")
                print("      duplicity: %s" % dup)
                print("      arca:      %s" % ours)
        sock.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d option sets differ" % (bad, len(sets)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
