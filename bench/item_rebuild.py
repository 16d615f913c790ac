"""Item 4: a rebuild after editing only a template, in a copy of the tree, and proof of what it redid."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

from common import BUDGETS, CODE, OUT, fresh, read_json, say
from report_table import Report
from runs import TREE_PARTS, copy_code, make_site_argv, run_logged


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Return {relative path: (mtime_ns, sha256)} for every file under `folder`."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(folder))] = (path.stat().st_mtime_ns, digest)
    return out


def redone(old: dict, new: dict) -> list[str]:
    """Return the files written again (new mtime) between two snapshots."""
    return sorted(k for k in new if k not in old or old[k][0] != new[k][0])


def changed(old: dict, new: dict) -> list[str]:
    """Return the files whose content changed between two snapshots."""
    return sorted(k for k in new if k not in old or old[k][1] != new[k][1])


def heavy(names: list[str]) -> list[str]:
    """Return the names that are not small JSON bookkeeping (timings, manifests, keys)."""
    return [n for n in names if n != "timings.json" and not n.endswith(".json")]


def template_rebuild(report: Report, site_result: dict, steps: int) -> None:
    """Copy the code and a finished build into bench/out, edit a template copy, rebuild, and check what was redone."""
    w = report.workload
    say(f"{w.name}: template-only rebuild (item 4)")
    tree = fresh(OUT / w.name / "tree")
    copy_code(CODE, tree, TREE_PARTS)
    shutil.copytree(site_result["build"], tree / "build", copy_function=shutil.copy2)
    shutil.copytree(site_result["site"], tree / "site", copy_function=shutil.copy2)
    argv = make_site_argv("build", "site", ["--steps", str(steps), *w.args])

    before = snapshot(tree / "build")
    unchanged = run_logged(argv, "rebuild-unchanged", w, cwd=tree, sample=True)
    after_unchanged = snapshot(tree / "build")

    template = tree / "templates" / "article.html.j2"
    marker = f"<!-- bench: template edited {time.time():.0f} -->"
    template.write_text(template.read_text() + "\n" + marker + "\n")
    edited = run_logged(argv, "rebuild-template", w, cwd=tree, sample=True)
    after_edit = snapshot(tree / "build")

    rewritten = heavy(redone(after_unchanged, after_edit))
    reused = "reusing" in Path(edited["log"]).read_text(errors="replace")
    index = tree / "site" / "index.html"
    visible = index.exists() and marker in index.read_text(errors="replace")
    first_redone = heavy(redone(before, after_unchanged))
    checks = [f"capture reused: {'yes' if reused and 'capture.h5' not in rewritten else 'NO'}",
              f"heavy files rewritten: {', '.join(rewritten) if rewritten else 'none'}",
              f"edit reached site/index.html: {'yes' if visible else 'NO'}"]
    report.raw["rebuild"] = {"unchanged_wall_s": unchanged["wall_s"], "edited_wall_s": edited["wall_s"],
                             "rewritten_after_edit": redone(after_unchanged, after_edit),
                             "content_changed_after_edit": changed(after_unchanged, after_edit),
                             "rewritten_without_edit": redone(before, after_unchanged), "capture_reused": reused,
                             "edit_visible": visible, "timings": read_json(tree / "build" / "timings.json")}
    if first_redone:
        checks.append(f"the rebuild with nothing edited rewrote {', '.join(first_redone[:6])}")
    ok = reused and not rewritten and visible and not first_redone
    report.add("4", "rebuild after editing only a template", edited["wall_s"], "s", BUDGETS["template_rebuild_s"],
               "; ".join(checks) + f"; rebuild with nothing edited {unchanged['wall_s']:.1f} s"
               + ("" if ok else " — CHECK FAILED"))
    if not ok:
        report.notes.append("Item 4: the template-only rebuild redid work it should not have: " + "; ".join(checks))
