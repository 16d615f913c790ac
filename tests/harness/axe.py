"""Run axe-core (from node_modules/) on the page loaded in the browser."""

from __future__ import annotations

from dataclasses import dataclass

from .tools import AXE_JS, axe_available, script


@dataclass
class AxeViolation:
    """One axe-core rule the page breaks, with the elements that break it."""

    id: str
    impact: str | None
    help: str
    help_url: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.id} ({self.impact}): {self.help} -- {', '.join(self.targets)}"


def run_axe(driver, context=None, options: dict | None = None) -> list[AxeViolation]:
    """Run axe-core on the page currently loaded (injected, so it works on file:// too); return its violations."""
    ok, reason = axe_available()
    if not ok:
        raise RuntimeError(reason)
    if not driver.execute_script("return typeof window.axe === 'object' && !!window.axe.run"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(script("axe_run"), context, options or {})
    if "error" in result:
        raise RuntimeError(f"axe.run failed: {result['error']}")
    return [
        AxeViolation(v["id"], v["impact"], v["help"], v["helpUrl"], list(v["targets"])) for v in result["violations"]
    ]
