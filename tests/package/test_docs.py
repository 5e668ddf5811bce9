#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The man pages and the unit as built: every page renders without a groff warning, every
option a program's --help lists is described in the page's OPTIONS section, bmsgw.conf(5) has every key of the shipped
bmsgw.conf, and the unit's systemd-analyze security exposure stays below 2.0.

usage: test_docs.py BUILD_DIR SOURCE_DIR PROGRAM=PAGE...
"""
import os
import re
import subprocess
import sys
import unittest

BUILD, SOURCE = sys.argv[1], sys.argv[2]
PAGES = dict(arg.split("=", 1) for arg in sys.argv[3:] if "=" in arg)
PROGRAMS = {"bmsgw": "src/bmsgw", "bmsgw-sim": "src/bmsgw-sim", "bmsctl": "src/bmsctl"}
MODES = {"bmsgw-sim"}  # programs whose first argument is a mode with its own --help
UNIT = os.path.join(BUILD, "systemd", "bmsgw.service")
CONF_MAN = os.path.join(BUILD, "docs", "bmsgw.conf.5")
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def groff_warnings(page):
    res = subprocess.run(["groff", "-man", "-ww", "-z", "-t", page], capture_output=True,
                         text=True, timeout=60)
    return res.stderr.strip()


def page_options(page):
    """Options described in the page's OPTIONS section (roff \\- and font changes undone)."""
    with open(page) as f:
        text = re.sub(r"\\f[BIRP]", "", f.read()).replace("\\-", "-")
    section = re.search(r"^\.SH OPTIONS\n(.*?)(?=^\.SH )", text, re.M | re.S)
    return set(OPTION.findall(section.group(1))) if section else set()


def help_text(cmd):
    res = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} --help: exit status {res.returncode}: {res.stderr}")
    return res.stdout


def help_options(prog):
    """Options in the program's --help; for a program with modes (bmsgw-sim), also in each
    mode's --help (the modes are the indented words the first --help lists)."""
    text = help_text([prog])
    if os.path.basename(prog) in MODES:
        for mode in re.findall(r"^  ([a-z][\w-]*)  ", text, re.M):
            text += help_text([prog, mode])
    return set(OPTION.findall(text))


class ManPages(unittest.TestCase):
    def test_pages_render_cleanly(self):
        self.assertIn("bmsgw", PAGES)
        for page in list(PAGES.values()) + [CONF_MAN]:
            with self.subTest(page=os.path.basename(page)):
                self.assertEqual(groff_warnings(page), "")

    def test_every_option_documented(self):
        for name, page in PAGES.items():
            prog = os.path.join(BUILD, PROGRAMS[name])
            with self.subTest(program=name):
                documented = page_options(page)
                missing = help_options(prog) - documented
                self.assertFalse(missing, f"{name} --help lists {sorted(missing)}, "
                                          f"{os.path.basename(page)} does not")

    def test_detector_sees_an_undocumented_option(self):
        with open(PAGES["bmsgw"]) as f:
            text = f.read()
        probe = os.path.join(BUILD, "tests", "bmsgw.8.probe")
        with open(probe, "w") as f:
            f.write(text.replace('.BR \\-f ", " \\-\\-foreground', ".B \\-\\-fg"))
        missing = help_options(os.path.join(BUILD, PROGRAMS["bmsgw"])) - page_options(probe)
        self.assertEqual(missing, {"-f", "--foreground"})

    def test_conf_page_has_every_key(self):
        keys = set()
        prefix = []
        with open(os.path.join(SOURCE, "conf", "bmsgw.conf")) as f:
            for line in f:
                m = re.match(r"^(\s*)#?(\w+) = ([{(]?)", line)
                if not m or line.lstrip().startswith("# "):
                    continue
                depth = len(m.group(1)) // 2
                prefix = prefix[:depth]
                if m.group(3) == "{":
                    prefix.append(m.group(2))
                else:
                    keys.add(".".join(prefix + [m.group(2)]))
        self.assertGreater(len(keys), 40)
        with open(CONF_MAN) as f:
            text = f.read().replace("\\-", "-")
        documented = set(re.findall(r"^\.B ([\w.\[\]]+)$", text, re.M))
        self.assertFalse(keys - documented, "keys of conf/bmsgw.conf missing in bmsgw.conf(5)")


class Unit(unittest.TestCase):
    def test_exposure_below_2(self):
        res = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=19",
                              UNIT], capture_output=True, text=True, timeout=60)
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", res.stdout)
        self.assertTrue(score, res.stdout + res.stderr)
        print(f"systemd-analyze security exposure: {score.group(1)}")
        self.assertEqual(res.returncode, 0, f"exposure {score.group(1)} above 1.9")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
