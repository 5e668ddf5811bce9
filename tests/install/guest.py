# SPDX-License-Identifier: MIT
"""The installed bmsgw.service under a real systemd: a Debian bookworm root with the package
installed, booted in Debian's kernel under qemu (tests/vm/vmlib.py) with systemd as PID 1.
A oneshot unit runs tests/install/service-test.sh after boot, writes one line per check to
/results/service.log in the root and powers the guest off. Used by scripts/install-test
(amd64) and scripts/arm64-test (the Raspberry Pi's architecture).

    lines = run_service_test(root, kernel, work, timeout_s)   # raises GuestError on failure
"""
import glob
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "vm"))
import vmlib  # noqa: E402

SERVICE_TEST_UNIT = """[Unit]
Description=bmsgw service test
After=bmsgw.service multi-user.target

[Service]
Type=oneshot
Environment=RESULTS=/results/service.log
ExecStart=/usr/local/libexec/bmsgw-service-test
TimeoutStartSec={timeout}
StandardOutput=journal+console
# whatever happened: power off at once (the host waits for the guest to end)
ExecStopPost=/bin/systemctl --force --force poweroff

[Install]
WantedBy=multi-user.target
"""
# Not wanted in a guest without terminals or disks (they would only slow the boot).
MASKED = ("getty@.service", "getty-static.service", "serial-getty@.service",
          "console-getty.service", "e2scrub_reap.service", "systemd-timesyncd.service",
          "apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "fstrim.timer")


class GuestError(Exception):
    """The guest could not run the service test; the message says why."""


def install_unit(root, name, text, wanted_by):
    units = os.path.join(root, "etc/systemd/system")
    os.makedirs(os.path.join(units, wanted_by + ".wants"), exist_ok=True)
    with open(os.path.join(units, name), "w") as f:
        f.write(text)
    link = os.path.join(units, wanted_by + ".wants", name)
    if not os.path.lexists(link):
        os.symlink("/etc/systemd/system/" + name, link)


def prepare(root, test_timeout_s):
    """The test script and its unit, no gettys; returns the (emptied) results folder."""
    results = os.path.join(root, "results")
    os.makedirs(results, exist_ok=True)
    for f in glob.glob(os.path.join(results, "*")):
        os.unlink(f)
    libexec = os.path.join(root, "usr/local/libexec")
    os.makedirs(libexec, exist_ok=True)
    script = os.path.join(libexec, "bmsgw-service-test")
    shutil.copy(os.path.join(HERE, "service-test.sh"), script)
    os.chmod(script, 0o755)
    install_unit(root, "bmsgw-service-test.service",
                 SERVICE_TEST_UNIT.format(timeout=test_timeout_s), "multi-user.target")
    units = os.path.join(root, "etc/systemd/system")
    for unit in MASKED:
        link = os.path.join(units, unit)
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)
    return results


def run_service_test(root, k, work, timeout_s, test_timeout_s=None):
    """Boots root (a folder) in kernel k with systemd as PID 1 and returns the lines of the
    service test; the console, the results and the journal are copied into work. Raises
    GuestError when the guest does not boot, does not end within timeout_s, or the test did
    not run to its end."""
    test_timeout_s = test_timeout_s or max(60, timeout_s - 60)
    results = prepare(root, test_timeout_s)
    console = os.path.join(work, f"console-{k.arch}.log")
    try:
        seconds = vmlib.boot(k, root, "/lib/systemd/systemd", console, timeout_s,
                             append=["systemd.show_status=0", "rw"])
    except vmlib.VmError as e:
        raise GuestError(str(e))
    for name in ("service.log", "journal.log"):
        if os.path.exists(os.path.join(results, name)):
            shutil.copy(os.path.join(results, name), os.path.join(work, name))
    path = os.path.join(results, "service.log")
    if not os.path.exists(path):
        raise GuestError(f"the service test did not run in the guest\n"
                         + vmlib.console_tail(console))
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines or lines[-1] != "end":
        raise GuestError("the service test did not reach its end:\n" + "\n".join(lines[-5:])
                         + "\n" + vmlib.console_tail(console))
    lines.append(f"# guest booted, tested and powered off in {seconds:.0f} s")
    return lines
