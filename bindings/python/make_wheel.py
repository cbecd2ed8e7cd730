#!/usr/bin/python3
"""Writes the zen_agent wheel from the package's files, with zipfile only
(no pip, setuptools or network at build time).

  make_wheel.py OUT.whl VERSION FILE...   # each FILE ends in zen_agent/<name>

The wheel is tagged cp37-abi3-linux_x86_64: Python over a ctypes-loaded
library, plus one module of CPython's limited API (abi3, CPython 3.7+), both
built for this machine's architecture.
"""

import base64
import hashlib
import os
import sys
import zipfile

TAG = "cp37-abi3-linux_x86_64"
# A fixed timestamp: the same inputs give the same bytes.
EPOCH = (1980, 1, 1, 0, 0, 0)


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"{name},sha256={digest.decode()},{len(data)}"


def main(argv):
    out, version, files = argv[1], argv[2], argv[3:]
    dist_info = f"zen_agent-{version}.dist-info"
    entries = []
    for path in sorted(files):
        with open(path, "rb") as f:
            entries.append(("zen_agent/" + os.path.basename(path), f.read()))
    entries.append(
        (
            f"{dist_info}/METADATA",
            (
                "Metadata-Version: 2.1\n"
                "Name: zen-agent\n"
                f"Version: {version}\n"
                "Summary: One agent shared by a pre-forking server's workers\n"
                "Requires-Python: >=3.7\n"
            ).encode(),
        )
    )
    entries.append(
        (
            f"{dist_info}/WHEEL",
            (
                "Wheel-Version: 1.0\n"
                "Generator: zen_agent make_wheel.py\n"
                "Root-Is-Purelib: false\n"
                f"Tag: {TAG}\n"
            ).encode(),
        )
    )
    record = [record_line(name, data) for name, data in entries]
    record.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            # rw-r--r--, and rwxr-xr-x for the shared library.
            mode = 0o755 if ".so" in name else 0o644
            info.external_attr = (0o100000 | mode) << 16
            wheel.writestr(info, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
