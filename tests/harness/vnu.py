"""Validate HTML files with the Nu Html Checker (node_modules/vnu-jar, run with java)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .tools import VNU_JAR, java, vnu_available


@dataclass
class VnuMessage:
    """One validation error, where it is and what it says."""

    file: str
    line: int | None
    column: int | None
    message: str
    extract: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.message}"


def run_vnu(html_paths: Iterable[str | os.PathLike] | str | os.PathLike,
            extra_args: Iterable[str] = ()) -> list[VnuMessage]:
    """Validate HTML files (or folders of them) with vnu.jar; return the errors."""
    ok, reason = vnu_available()
    if not ok:
        raise RuntimeError(reason)
    if isinstance(html_paths, (str, os.PathLike)):
        html_paths = [html_paths]
    paths = [str(Path(p).resolve()) for p in html_paths]
    if not paths:
        return []
    # C1 only, serial GC: a one-shot check of a few pages starts in about half the CPU time (JIT threads idle).
    args = [java(), "-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(VNU_JAR), "--format", "json",
            "--errors-only", "--exit-zero-always"]
    if any(Path(p).is_dir() for p in paths):
        args.append("--skip-non-html")
    args += list(extra_args) + paths
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    raw = proc.stderr.strip() or proc.stdout.strip()
    try:
        data = json.loads(raw)
    except ValueError:
        raise RuntimeError(f"vnu.jar exited {proc.returncode} without JSON output:\n{raw[-2000:]}") from None
    messages = []
    for m in data.get("messages", []):
        if m.get("type") not in ("error", "non-document-error") and m.get("subType") != "fatal":
            continue
        file = m.get("url", "")
        if file.startswith("file:"):
            file = urllib.request.url2pathname(urllib.parse.urlsplit(file).path)
        column = m.get("firstColumn") or m.get("lastColumn")
        messages.append(VnuMessage(file, m.get("lastLine"), column, m.get("message", ""), m.get("extract", "")))
    return messages
