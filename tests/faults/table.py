"""The fault table: each fault test records what it tried and what was lost, and a
full run in which every one of them passed writes docs/faults.md.

A pytest plugin (registered in tests/conftest.py). Tests ask for the `fault_table`
fixture and call `record(...)` with numbers they observed. The file is written
only at the end of a whole-suite run (`make test`: no paths, no -k/-m) in which
every test using the fixture passed, so a partial or failing run never replaces
it with a partial table. Rows are sorted and carry no timestamps: a run that
observed the same thing leaves the file unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
AREAS = ("Campaign", "CSV import", "Media upload", "Callbacks")
HEADER = """\
# Faults and bad input tried by the test suite

Written by the test suite (`tests/faults/table.py`) at the end of a full `make test`
run in which every fault test passed; do not edit it by hand. Each row is one test's
own count of what it tried and what it saw. Campaign faults run on PostgreSQL with
real `db_worker` processes, a real `campaigns_tick` process and the provider
simulator; bad input is generated with hypothesis (fixed seed) and sent through the
real views and services. *Lost* counts recipients, rows, files or callbacks that
ended nowhere (neither done nor refused with a reason); *sent twice* counts numbers
the simulator accepted more than once.

| Area | Fault or bad input | Tried | What happened | Lost | Sent twice |
|---|---|---|---|---:|---:|
"""


@dataclass(frozen=True, order=True)
class FaultRow:
    area_rank: int
    fault: str
    tried: str
    outcome: str
    lost: int
    sent_twice: int | None

    def markdown(self) -> str:
        twice = "—" if self.sent_twice is None else str(self.sent_twice)
        cells = [AREAS[self.area_rank], self.fault, self.tried, self.outcome]
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in cells]
        return f"| {' | '.join(cells)} | {self.lost} | {twice} |"


@dataclass
class FaultTable:
    """Rows recorded during this session, and how the fault tests went."""

    rows: list[FaultRow] = field(default_factory=list)
    tests: dict[str, str] = field(default_factory=dict)  # nodeid → outcome
    deselected: int = 0
    note: str = ""

    def record(
        self,
        *,
        area: str,
        fault: str,
        tried: str,
        outcome: str,
        lost: int,
        sent_twice: int | None = None,
    ) -> None:
        """One fault or bad input: how many were tried (in words, with the
        counts observed), what happened, what was lost and sent twice."""
        assert area in AREAS, f"area must be one of {AREAS}"
        self.rows.append(
            FaultRow(AREAS.index(area), fault, tried, outcome, lost, sent_twice)
        )

    def markdown(self) -> str:
        rows = sorted(set(self.rows))
        lost = sum(r.lost for r in rows)
        twice = sum(r.sent_twice or 0 for r in rows)
        total = f"{len(rows)} faults and bad inputs; lost {lost}, sent twice {twice}."
        return HEADER + "".join(f"{r.markdown()}\n" for r in rows) + f"\n{total}\n"

    def why_not_written(self, config: pytest.Config) -> str:
        """Empty when the table may be written, else the reason it is not."""
        if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
            return "only a whole-suite run (no paths given) writes it"
        if self.deselected:
            return f"{self.deselected} test(s) were deselected"
        unfinished = sorted(n for n, o in self.tests.items() if o != "passed")
        if unfinished:
            return f"not every fault test passed ({', '.join(unfinished[:3])})"
        return ""


class FaultTablePlugin:
    """Follows the fault tests through the session and writes the table."""

    name = "fault-table"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.table = FaultTable()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.table.deselected += len(items)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if "fault_table" in getattr(item, "fixturenames", ()):
                self.table.tests[item.nodeid] = "not run"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tests = self.table.tests
        if report.nodeid not in tests:
            return
        if report.failed or report.skipped:
            tests[report.nodeid] = report.outcome
        elif report.when == "call" and tests[report.nodeid] == "not run":
            tests[report.nodeid] = "passed"

    def pytest_sessionfinish(self) -> None:
        table = self.table
        if not table.tests:
            return
        table.note = table.why_not_written(self.config)
        if table.note:
            table.note = f"not written: {table.note}"
            return
        text = table.markdown()
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            OUTPUT.write_text(text)
        table.note = f"written ({len(set(table.rows))} rows)"

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> None:
        if self.table.note:
            terminalreporter.write_line(f"docs/faults.md {self.table.note}.")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(FaultTablePlugin(config), FaultTablePlugin.name)


@pytest.fixture
def fault_table(request: pytest.FixtureRequest) -> FaultTable:
    """The session's fault table; `record(...)` adds this test's rows."""
    plugin = request.config.pluginmanager.get_plugin(FaultTablePlugin.name)
    assert isinstance(plugin, FaultTablePlugin)
    return plugin.table
