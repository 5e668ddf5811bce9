# SPDX-License-Identifier: MIT
"""Shared plumbing of scripts/package, scripts/cross-build and scripts/install-test: Debian
bookworm roots made with debootstrap and cached under build/chroot/, commands run in them
(in a private mount namespace, so that nothing stays mounted when a step fails), the source
tree copied for dpkg-buildpackage, lintian.

Everything here needs root (debootstrap, chroot, mount); main() entry points call need_root().
"""
import contextlib
import fcntl
import glob
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(SOURCE, "build")
CHROOTS = os.path.join(BUILD, "chroot")
APT_ARCHIVES = os.path.join(CHROOTS, "apt-archives")  # .deb cache shared by every root
SUITE = "bookworm"
MIRROR = os.environ.get("BMSGW_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("BMSGW_DEBIAN_SECURITY_MIRROR",
                                 "http://deb.debian.org/debian-security")
ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL": "C.UTF-8",
    "HOME": "/root",
    "DEBIAN_FRONTEND": "noninteractive",
}


class Failure(Exception):
    """A step failed; the message says which and why."""


def say(msg):
    print(msg, flush=True)


def need_root():
    """Re-run the calling script through sudo when not root (as scripts/setup does)."""
    if os.geteuid() == 0:
        return
    if shutil.which("sudo") is None:
        sys.exit(f"{os.path.basename(sys.argv[0])}: needs root (debootstrap, chroot, mount) "
                 "and sudo is not installed")
    os.execvp("sudo", ["sudo", "--preserve-env=BMSGW_DEBIAN_MIRROR,BMSGW_DEBIAN_SECURITY_MIRROR",
                       sys.executable] + sys.argv)


def run(cmd, timeout, log=None, env=None, check=True, capture=False, cwd=None):
    """Run cmd (a list) with a time limit; output goes to log (a path, appended) when given.
    Returns the CompletedProcess; raises Failure on a non-zero status when check is true."""
    out = subprocess.PIPE if capture else None
    logf = None
    if log and not capture:
        logf = open(log, "a")
        logf.write(f"$ {shlex.join(cmd)}\n")
        logf.flush()
        out = logf
    try:
        res = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT if out else None,
                             timeout=timeout, env=env, cwd=cwd, text=True)
    except subprocess.TimeoutExpired:
        raise Failure(f"timed out after {timeout} s: {shlex.join(cmd)}" +
                      (f" (log: {log})" if log else ""))
    finally:
        if logf:
            logf.close()
    if check and res.returncode != 0:
        detail = (res.stdout or "")[-3000:] if capture else (f" (log: {log})" if log else "")
        raise Failure(f"exit status {res.returncode}: {shlex.join(cmd)}{detail}")
    return res


def in_root(root, cmd, timeout, log=None, binds=(), check=True, capture=False, user=None):
    """Run cmd inside root with /proc, /sys and /dev mounted and binds ((host, guest) pairs,
    guest relative to root) in a private mount namespace: the mounts vanish with the command."""
    mounts = [
        'mount -t proc proc "$R/proc"',
        'mount -t sysfs -o ro sysfs "$R/sys"',
        'mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev"',
    ]
    for host, guest in binds:
        mounts.append(f'mkdir -p "$R/{guest}" && mount --bind {shlex.quote(host)} "$R/{guest}"')
    shutil.copyfile("/etc/resolv.conf", os.path.join(root, "etc", "resolv.conf"))
    chroot = ["chroot"] + ([f"--userspec={user}"] if user else []) + [root]
    script = " && ".join(mounts) + ' && exec "$@"'
    full = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"]
    full += chroot + ["/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in ENV.items()] + cmd
    return run(full, timeout, log=log, env=dict(os.environ, R=root), check=check,
               capture=capture)


def write_sources(root, security):
    """Point apt at bookworm (main) and bookworm-updates, and bookworm-security when asked."""
    lines = [f"deb {MIRROR} {SUITE} main", f"deb {MIRROR} {SUITE}-updates main"]
    if security:
        lines.append(f"deb {SECURITY_MIRROR} {SUITE}-security main")
    with open(os.path.join(root, "etc", "apt", "sources.list"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # only what is asked for, and patience with a busy mirror
    with open(os.path.join(root, "etc", "apt", "apt.conf.d", "90bmsgw-build"), "w") as f:
        f.write('APT::Install-Recommends "false";\nAcquire::Retries "3";\n')


@contextlib.contextmanager
def archive_lock():
    """Held while apt or debootstrap use the shared .deb cache (scripts run side by side)."""
    os.makedirs(CHROOTS, exist_ok=True)
    with open(os.path.join(CHROOTS, "apt-archives.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def apt(root, args, log, timeout=900, binds=()):
    """apt-get in root, with the shared .deb cache mounted as its archive folder. apt in
    one root at a time: the cache's own lock would make a second apt fail, not wait."""
    os.makedirs(os.path.join(APT_ARCHIVES, "partial"), exist_ok=True)
    with archive_lock():
        return in_root(root, ["apt-get", "-y", "-q"] + args, timeout, log=log,
                       binds=[(APT_ARCHIVES, "var/cache/apt/archives")] + list(binds))


def debootstrap(dest, variant, include, log, arch=None):
    """A fresh bookworm root in dest (the downloaded .debs are kept for next time); of
    another architecture than this machine's when arch is given (its programs then run
    under qemu-user: see binfmt())."""
    os.makedirs(APT_ARCHIVES, exist_ok=True)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    cmd = ["debootstrap", f"--variant={variant}", f"--cache-dir={APT_ARCHIVES}"]
    if arch:
        binfmt(arch)
        cmd.append(f"--arch={arch}")
    if include:
        cmd.append("--include=" + ",".join(include))
    with archive_lock():
        run(cmd + [SUITE, dest, MIRROR], 1800, log=log)


def cached_root(name, variant, include, setup, log, arch=None):
    """The path of a tar of a prepared root, made once (debootstrap, then setup(root)) and
    reused while its recipe (variant, packages, mirror, version, architecture) is the same."""
    key = hashlib.sha256(repr((name, variant, include, MIRROR, setup.__doc__) +
                              ((arch,) if arch else ())).encode())
    tar = os.path.join(CHROOTS, f"{name}-{key.hexdigest()[:12]}.tar.zst")
    if os.path.exists(tar):
        return tar
    for old in glob.glob(os.path.join(CHROOTS, f"{name}-*.tar*")):
        os.unlink(old)
    tmp = os.path.join(CHROOTS, f"{name}.new")
    say(f"   making the {name} root (debootstrap {SUITE}, once; log: {log})")
    start = time.monotonic()
    debootstrap(tmp, variant, include, log, arch)
    setup(tmp)
    run(["tar", "-C", tmp, "--numeric-owner", "--zstd", "-cf", tar + ".part", "."], 900, log=log)
    os.rename(tar + ".part", tar)
    shutil.rmtree(tmp)
    say(f"   {name} root ready in {time.monotonic() - start:.0f} s")
    return tar


QEMU_USER = {"arm64": "aarch64", "armhf": "arm"}


def binfmt(arch):
    """Programs of arch run on this machine under Debian's qemu-user-static, through the
    kernel's binfmt_misc: the package's own registration (/usr/lib/binfmt.d), made here when
    nothing made it at boot (no systemd-binfmt). Its "F" flag keeps the emulator open, so
    it works inside roots without a copy of it."""
    name = QEMU_USER[arch]
    misc = "/proc/sys/fs/binfmt_misc"
    if os.path.exists(f"{misc}/qemu-{name}"):
        return
    conf = f"/usr/lib/binfmt.d/qemu-{name}.conf"
    if not os.path.exists(conf):
        raise Failure(f"{conf} missing: install qemu-user-static (scripts/setup does)")
    if not os.path.exists(f"{misc}/register"):
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", misc], 30)
    with open(conf) as f:
        rule = f.read().strip()
    with open(f"{misc}/register", "w") as f:
        f.write(rule)


def unpack_root(tar, dest, log):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    run(["tar", "-C", dest, "--numeric-owner", "--zstd", "-xf", tar], 900, log=log)


def copy_source(dest):
    """The tracked and new (not ignored) files of the tree, without build/, into dest."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    if os.path.exists(os.path.join(SOURCE, ".git")):
        files = run(["git", "-C", SOURCE, "ls-files", "-z", "--cached", "--others",
                     "--exclude-standard"], 60, capture=True).stdout.split("\0")
    else:
        files = [os.path.relpath(os.path.join(d, f), SOURCE)
                 for d, dirs, fs in os.walk(SOURCE) for f in fs
                 if not os.path.relpath(d, SOURCE).startswith("build")]
    for rel in files:
        if not rel or rel.startswith("build/") or not os.path.lexists(os.path.join(SOURCE, rel)):
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(SOURCE, rel), os.path.join(dest, rel), follow_symlinks=False)


def lintian(changes, log):
    """lintian on a .changes: errors fail; the tags seen are returned (overrides apply)."""
    res = run(["lintian", "--fail-on", "error,warning", "-I", "--pedantic", changes], 600,
              capture=True, check=False)
    with open(log, "a") as f:
        f.write(res.stdout)
    tags = [line for line in res.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "P:")]
    if res.returncode != 0:
        raise Failure(f"lintian found errors or warnings in {changes}:\n" + "\n".join(tags))
    return tags


def deb_version():
    """The version in debian/changelog (the first line)."""
    with open(os.path.join(SOURCE, "debian", "changelog")) as f:
        return f.readline().split("(")[1].split(")")[0]


def in_root_isolated(root, cmd, timeout, log=None, binds=(), check=True, capture=False):
    """in_root (the same mounts), and in a network namespace of its own with only the loopback
    interface, up, and a PID namespace of its own: fixed ports of what runs there cannot
    collide with the host's, nothing there reaches the network, and whatever the command
    leaves running is killed when it ends or times out. Needs ip (iproute2) on the host."""
    mounts = [
        'mount -t proc proc "$R/proc"',
        'mount -t sysfs -o ro sysfs "$R/sys"',
        'mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev"',
    ]
    for host, guest in binds:
        mounts.append(f'mkdir -p "$R/{guest}" && mount --bind {shlex.quote(host)} "$R/{guest}"')
    script = " && ".join(mounts) + ' && exec "$@"'
    full = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--",
            "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
            "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
            "chroot", root, "/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in ENV.items()] + cmd
    return run(full, timeout, log=log, env=dict(os.environ, R=root), check=check,
               capture=capture)
