# SPDX-License-Identifier: MIT
"""Debian's own Linux kernel under qemu (TCG: pure emulation, any host CPU, no KVM), for the
tests that need what the build machine's kernel lacks (CAN, vcan, a real systemd as PID 1).

The kernel is Debian bookworm's `linux-image-<arch>` of the day: its version is read from the
metapackage's dependency, never written down here. The kernel package (and nothing else) is
fetched with `apt-get download` through a private apt configuration (its own sources, lists
and cache under the cache folder: the host's apt is neither used nor changed, and no root is
needed), unpacked with `dpkg-deb -x` and indexed with `depmod -b`. The initramfs is made here
(a newc cpio written in Python) from the kernel's modules and Debian's busybox-static of the
same architecture; its /init loads the modules the guest needs (in dependency order, taken from
modules.dep), mounts a host folder over virtio-9p as the root and switch_roots into it.

The cache is <source>/build/vm/<arch>/ (BMSGW_VM_CACHE overrides <source>/build/vm); a lock
file makes concurrent users wait for one download.

    k = kernel("amd64")                     # fetched once, then reused
    rc = boot(k, root="/", init="/path/to/script", timeout=300, console="console.log")
"""
import fcntl
import glob
import gzip
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("BMSGW_VM_CACHE", os.path.join(SOURCE, "build", "vm"))
MIRROR = os.environ.get("BMSGW_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("BMSGW_DEBIAN_SECURITY_MIRROR",
                                 "http://deb.debian.org/debian-security")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
INDEX_MAX_AGE_S = 24 * 3600  # the package lists are read again after a day

# What each architecture boots on. The module lists are what the guest needs; their
# dependencies come from modules.dep, and those built into a kernel are left out.
ARCHES = {
    "amd64": {
        "qemu": "qemu-system-x86_64",
        "qemu_package": "qemu-system-x86",
        "machine": ["-machine", "q35,accel=tcg", "-cpu", "max"],
        "console": "ttyS0",
        "extra_append": ["edd=off"],
    },
    "arm64": {
        "qemu": "qemu-system-aarch64",
        "qemu_package": "qemu-system-arm",
        "machine": ["-machine", "virt,accel=tcg", "-cpu", "cortex-a72"],
        "console": "ttyAMA0",
        "extra_append": [],
    },
}
ROOT_MODULES = ["virtio_pci", "virtio_rng", "9pnet_virtio", "9p"]
CAN_MODULES = ["can_raw", "can_bcm", "vcan"]


class VmError(Exception):
    """The guest could not be prepared or booted; the message says why."""


def _run(cmd, timeout=600, cwd=None, log=None):
    try:
        res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VmError(f"timed out after {timeout} s: {' '.join(cmd)}")
    except FileNotFoundError:
        raise VmError(f"{cmd[0]} not found (scripts/setup installs it)")
    if log:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}")
    if res.returncode != 0:
        raise VmError(f"exit status {res.returncode}: {' '.join(cmd)}\n"
                      f"{(res.stdout + res.stderr)[-2000:]}")
    return res.stdout


class Apt:
    """apt-get and apt-cache for one architecture with their own state under folder."""

    def __init__(self, arch, folder):
        self.arch = arch
        self.folder = folder
        for sub in ("lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        status = os.path.join(folder, "status")
        if not os.path.exists(status):
            open(status, "w").close()
        sources = os.path.join(folder, "sources.list")
        with open(sources, "w") as f:
            for uri, suite in ((MIRROR, "bookworm"), (MIRROR, "bookworm-updates"),
                               (SECURITY_MIRROR, "bookworm-security")):
                f.write(f"deb [signed-by={KEYRING}] {uri} {suite} main\n")
        self.options = []
        for key, value in (("Dir::State", folder), ("Dir::State::Lists", folder + "/lists"),
                           ("Dir::State::status", status), ("Dir::Etc::SourceList", sources),
                           ("Dir::Etc::SourceParts", "/dev/null"),
                           ("Dir::Etc::Preferences", "/dev/null"),
                           ("Dir::Etc::PreferencesParts", "/dev/null"),
                           ("Dir::Cache", folder + "/cache"), ("APT::Architecture", arch),
                           ("APT::Architectures", arch), ("Debug::NoLocking", "1"),
                           ("APT::Sandbox::User", "root" if os.geteuid() == 0 else ""),
                           ("Acquire::Retries", "3")):
            if value != "":
                self.options += ["-o", f"{key}={value}"]

    def update(self, log):
        stamp = os.path.join(self.folder, "updated")
        if os.path.exists(stamp) and time.time() - os.path.getmtime(stamp) < INDEX_MAX_AGE_S:
            return
        _run(["apt-get", "-q"] + self.options + ["update"], 300, log=log)
        open(stamp, "w").close()

    def depends(self, package):
        """The packages package depends on (the first alternative of each)."""
        out = _run(["apt-cache"] + self.options + ["depends", package], 60)
        return [line.split(":", 1)[1].strip().strip("<>") for line in out.splitlines()
                if line.strip().startswith("Depends:")]

    def download(self, package, dest, log):
        """Downloads package into dest (a folder); returns the .deb's path."""
        os.makedirs(dest, exist_ok=True)
        for old in glob.glob(os.path.join(dest, "*.deb")):
            os.unlink(old)
        _run(["apt-get", "-q"] + self.options + ["download", package], 600, cwd=dest, log=log)
        debs = glob.glob(os.path.join(dest, "*.deb"))
        if len(debs) != 1:
            raise VmError(f"apt-get download {package}: expected one .deb in {dest}, got {debs}")
        return debs[0]


class Kernel:
    """An unpacked Debian kernel: arch, version, image path and modules folder."""

    def __init__(self, arch, folder):
        self.arch = arch
        self.folder = folder
        with open(os.path.join(folder, "version")) as f:
            self.version = f.read().strip()
        self.image = os.path.join(folder, "root", "boot", f"vmlinuz-{self.version}")
        self.modules = os.path.join(folder, "root", "lib", "modules", self.version)
        self.busybox = os.path.join(folder, "busybox", "bin", "busybox")

    def module_order(self, names):
        """The .ko paths (relative to the modules folder) to load for names, dependencies
        first; names built into the kernel are left out, unknown names are an error."""
        deps, by_name = {}, {}
        with open(os.path.join(self.modules, "modules.dep")) as f:
            for line in f:
                path, _, rest = line.partition(":")
                deps[path] = rest.split()
                by_name[_module_name(path)] = path
        builtin = set()
        with open(os.path.join(self.modules, "modules.builtin")) as f:
            builtin = {_module_name(line.strip()) for line in f if line.strip()}
        order = []

        def visit(path):
            if path in order:
                return
            for dep in reversed(deps[path]):  # modules.dep lists the deepest last
                visit(dep)
            order.append(path)

        for name in names:
            key = name.replace("-", "_")
            if key in by_name:
                visit(by_name[key])
            elif key not in builtin:
                raise VmError(f"kernel {self.version}: no module {name}")
        return order


def _module_name(path):
    base = os.path.basename(path)
    return base.split(".ko")[0].replace("-", "_")


def _lock(folder):
    os.makedirs(folder, exist_ok=True)
    f = open(os.path.join(folder, ".lock"), "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def kernel(arch, log=None):
    """The Debian kernel of arch (amd64, arm64), fetched and unpacked once into the cache.
    The package lists are refreshed once a day; a newer kernel then replaces the old one."""
    if arch not in ARCHES:
        raise VmError(f"unknown architecture {arch!r} (known: {', '.join(ARCHES)})")
    folder = os.path.join(CACHE, arch)
    log = log or os.path.join(folder, "fetch.log")
    with _lock(folder):
        apt = Apt(arch, os.path.join(folder, "apt"))
        try:
            apt.update(log)
        except VmError as e:
            if os.path.exists(os.path.join(folder, "version")):
                return Kernel(arch, folder)  # offline: the kernel fetched before
            raise VmError(f"cannot read Debian's package lists for {arch}: {e}")
        meta = f"linux-image-{arch}"
        wanted = [d for d in apt.depends(meta) if d.startswith("linux-image-")]
        if not wanted:
            raise VmError(f"{meta} depends on no linux-image package")
        version = wanted[0][len("linux-image-"):]
        if os.path.exists(os.path.join(folder, "version")):
            with open(os.path.join(folder, "version")) as f:
                if f.read().strip() == version:
                    return Kernel(arch, folder)
        _unpack(apt, wanted[0], os.path.join(folder, "root"), log)
        _unpack(apt, "busybox-static", os.path.join(folder, "busybox"), log)
        _run(["depmod", "-b", os.path.join(folder, "root"), version], 120, log=log)
        for old in glob.glob(os.path.join(folder, "initrd-*")):
            os.unlink(old)
        with open(os.path.join(folder, "version"), "w") as f:
            f.write(version + "\n")
        return Kernel(arch, folder)


def _unpack(apt, package, dest, log):
    deb = apt.download(package, os.path.join(apt.folder, "debs"), log)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    _run(["dpkg-deb", "-x", deb, dest], 300, log=log)
    os.unlink(deb)


INIT = r"""#!/bin/busybox sh
# initramfs of the project's test guests: modules, the 9p root, switch_root
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r ko; do
    insmod "/modules/$ko" || echo "initramfs: cannot load $ko"
done </modules.order
init=/sbin/init
for arg in $(cat /proc/cmdline); do
    case "$arg" in bmsgw.init=*) init=${arg#bmsgw.init=} ;; esac
done
mkdir -p /newroot
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose root /newroot; then
    echo "initramfs: cannot mount the 9p root"
    echo o >/proc/sysrq-trigger
fi
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot "$init"
"""


def _cpio_newc(entries):
    """A newc cpio archive of entries (name, mode, data bytes or None for a folder)."""
    out = io.BytesIO()

    def pad(n):
        out.write(b"\0" * ((4 - n % 4) % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        data = data or b""
        name_b = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0]
        out.write(b"070701" + b"".join(b"%08X" % v for v in fields))
        out.write(name_b)
        pad(110 + len(name_b))
        out.write(data)
        pad(len(data))
    return out.getvalue()


def initramfs(k, modules):
    """The initramfs (gzip'd newc cpio) of kernel k that loads modules (names, with their
    dependencies) before mounting the root; cached by content."""
    order = k.module_order(modules)
    key = hashlib.sha256(repr((k.version, order, INIT)).encode()).hexdigest()[:12]
    path = os.path.join(k.folder, f"initrd-{key}.gz")
    if os.path.exists(path):
        return path
    entries = [(d, stat.S_IFDIR | 0o755, None) for d in
               ("bin", "dev", "proc", "sys", "modules", "newroot")]
    with open(k.busybox, "rb") as f:
        entries.append(("bin/busybox", stat.S_IFREG | 0o755, f.read()))
    entries.append(("init", stat.S_IFREG | 0o755, INIT.encode()))
    folders = set()
    for ko in order:
        parts = os.path.dirname(ko).split("/")
        for i in range(1, len(parts) + 1):
            d = "modules/" + "/".join(parts[:i])
            if d not in folders:
                folders.add(d)
                entries.append((d, stat.S_IFDIR | 0o755, None))
        with open(os.path.join(k.modules, ko), "rb") as f:
            entries.append(("modules/" + ko, stat.S_IFREG | 0o644, f.read()))
    entries.append(("modules.order", stat.S_IFREG | 0o644, ("\n".join(order) + "\n").encode()))
    tmp = path + ".part"
    with gzip.open(tmp, "wb", compresslevel=1) as f:
        f.write(_cpio_newc(entries))
    os.rename(tmp, path)
    return path


def install_modules(k, root):
    """The kernel's modules in root/lib/modules (hard links when on the same file system),
    for a guest whose own userland loads modules (systemd-modules-load, modprobe)."""
    dest = os.path.join(root, "lib", "modules", k.version)
    if os.path.isdir(dest):
        return
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if subprocess.run(["cp", "-al", k.modules, dest], stderr=subprocess.DEVNULL).returncode:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(k.modules, dest, symlinks=True)


def boot(k, root, init, console, timeout, modules=ROOT_MODULES + CAN_MODULES, mem_mb=1024,
         cpus=2, append=()):
    """Boots kernel k with the host folder root as its root file system (9p, read-write) and
    init as PID 1 (a path inside root), the console written to the file console. Returns
    the seconds the guest ran; raises VmError when qemu is missing, fails, or the guest runs
    longer than timeout seconds (it is killed; the console's last lines are in the message).
    The guest's own verdict is for the caller to read from files it wrote under root."""
    arch = ARCHES[k.arch]
    qemu = shutil.which(arch["qemu"])
    if qemu is None:
        raise VmError(f"{arch['qemu']} not found: scripts/setup installs {arch['qemu_package']}")
    cmdline = [f"console={arch['console']}", "panic=-1", "quiet", "loglevel=4",
               f"bmsgw.init={init}"] + arch["extra_append"] + list(append)
    cmd = [qemu] + arch["machine"] + [
        "-m", str(mem_mb), "-smp", str(cpus), "-display", "none", "-monitor", "none",
        "-serial", f"file:{console}", "-nic", "none", "-no-reboot",
        "-kernel", k.image, "-initrd", initramfs(k, modules), "-append", " ".join(cmdline),
        "-device", "virtio-rng-pci",
        "-virtfs", f"local,path={root},mount_tag=root,security_model=passthrough,"
                   "multidevs=remap,id=root"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise VmError(f"the {k.arch} guest did not power off within {timeout} s\n"
                      + console_tail(console))
    if proc.returncode != 0:
        raise VmError(f"{arch['qemu']} exit status {proc.returncode}: "
                      f"{out.decode(errors='replace')[-2000:]}\n" + console_tail(console))
    return time.monotonic() - start


def console_tail(console, lines=30):
    try:
        with open(console, errors="replace") as f:
            tail = f.read().splitlines()[-lines:]
    except OSError:
        return f"(no console log at {console})"
    return f"last {len(tail)} console lines ({console}):\n" + "\n".join(tail)
