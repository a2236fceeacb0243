"""Checks the system libraries and fonts the app needs, and says plainly what is missing and how to get it.

Run as `python -m attendance.syscheck`; exits 1 only when the app cannot work at all.
"""

import ctypes.util
import shutil
import subprocess
import sys

DEBIAN = "sudo apt-get install -y"
MAC = "brew install"


def main() -> int:
    fatal = False
    try:
        import weasyprint  # noqa: F401  (loads Pango, HarfBuzz and fontconfig through cffi)
    except OSError as error:
        print(
            f"MISSING: the libraries WeasyPrint needs to make badges and certificates ({error}).\n"
            f"  Debian/Ubuntu: {DEBIAN} libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0\n"
            f"  macOS:         {MAC} pango",
            file=sys.stderr,
        )
        fatal = True
    if not ctypes.util.find_library("harfbuzz-subset"):
        print(
            "WARNING: HarfBuzz's subsetting library is missing: every PDF will be 5-10x slower.\n"
            f"  Debian/Ubuntu: {DEBIAN} libharfbuzz-subset0   (macOS: {MAC} harfbuzz)",
            file=sys.stderr,
        )
    if shutil.which("fc-list"):
        families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
        for family, package in (("Noto Sans Arabic", "fonts-noto-core"), ("Noto Sans CJK", "fonts-noto-cjk")):
            if family not in families:
                print(
                    f"WARNING: font '{family}' is missing: some names will print as empty boxes.\n"
                    f"  Debian/Ubuntu: {DEBIAN} {package}   (macOS: {MAC} --cask font-noto-sans-cjk "
                    "font-noto-sans-arabic)",
                    file=sys.stderr,
                )
    return 1 if fatal else 0


if __name__ == "__main__":
    sys.exit(main())
