"""Every error path3-sandbox raises on purpose, and the exit code each one maps to.

    Path3Error
    ├── UsageError ................ exit 2: the input is wrong; the user can fix it
    │   ├── TargetError ........... an npm spec npm doesn't have, an unreadable or non-OpenClaw tarball
    │   ├── FixtureError .......... a fixture whose manifest and files disagree, an unreadable state
    │   └── ReportError ........... a recovery report (repro --from-report) that is not one, or implies no state
    └── EnvironmentProblem ........ exit 3: this machine can't run the proof as it is
        ├── EngineUnavailable ..... no Docker engine answers and none can be installed here
        ├── BaseImageUnavailable .. the public base neither pulls nor can be built locally
        ├── ImageBuildFailed ...... the Gateway image build failed for a reason other than the target
        ├── GatewayNotReady ....... the Gateway container never became ready
        └── CaptureFailed ......... a writer release did not write what a capture recipe asks (fixtures capture)

Inside a run, caught where they happen and turned into evidence (a verdict's failure with its blame), never an
exit code of their own:

    RuntimeError
    ├── HarnessFailure ............ the test bed could not do its part: blamed on the harness
    │   ├── ProbeFailed ........... a probe script in a container failed or printed no JSON
    │   └── ContainerFailed ....... a container, volume copy or network witness the run needs did not work
    └── GatewayStuck .............. the Gateway would not come up where a fault's setup needs it: the Gateway's finding
    RpcError (Exception) .......... the Gateway answered ok=false, or the socket failed; `code` is the Gateway's
    │                               error code; `answered`: the Gateway's own answer (a finding), not the socket's
    └── MalformedAnswer ........... the Gateway answered ok with a shape its protocol does not have (a finding)
    BuildError (Exception) ........ `docker build` failed; `log_tail` holds its last lines (images.py decides whose)
    JSON5Error (ValueError) ....... a document json5text cannot read (the redactor then treats it as text)
    UpgradeFailed (AssertionError)  the pytest plugin's upgraded_gateway: the Gateway did not come up as its
                                    contract says (an assertion, so pytest reports it as a failed test)

A failed proof is not an error: it is a verdict, written to the evidence: exit 1 when a failure is the Gateway's (a
finding), exit 4 when every failure is the harness's (the test bed could not judge: not a verdict on the Gateway);
a fault run in which nothing failed but a fault never met the run exits 5 (not hit: neither a pass nor a failure). Ctrl-C or SIGTERM ends a
run with exit 130 once its containers and volumes are removed (signals.py).
Each message says what was expected, what was seen, and what to do about it.
"""

from __future__ import annotations

from typing import Any

EXIT_PROOF_PASSED = 0
EXIT_PROOF_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_HARNESS = 4  # the proof failed on the harness's failures only: the test bed could not judge the Gateway
EXIT_NOT_HIT = 5  # faults: nothing failed, but a fault never met the run (neither a pass nor a failure)
EXIT_INTERRUPTED = 130


def exit_for(passed: bool, *, findings: bool = True) -> int:
    """A finished proof's exit code, the one mapping every command uses: 0 passed; 1 failed with at least one of the
    Gateway's findings (a verdict, not an error); 4 failed with harness failures only (`findings` False): a CI run
    tells a product bug from a test-bed bug. A caller that cannot tell says nothing and gets 1."""
    if passed:
        return EXIT_PROOF_PASSED
    return EXIT_PROOF_FAILED if findings else EXIT_HARNESS


class Path3Error(Exception):
    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class UsageError(Path3Error):
    exit_code = EXIT_USAGE


class TargetError(UsageError):
    pass


class FixtureError(UsageError):
    pass


class ReportError(UsageError):
    """`repro --from-report FILE`: FILE is not the markdown doctor's recover --github-issue writes, or implies no state."""


class EnvironmentProblem(Path3Error):
    exit_code = EXIT_ENVIRONMENT


class EngineUnavailable(EnvironmentProblem):
    pass


class BaseImageUnavailable(EnvironmentProblem):
    pass


class ImageBuildFailed(EnvironmentProblem):
    pass


class GatewayNotReady(EnvironmentProblem):
    pass


class CaptureFailed(EnvironmentProblem):
    pass


class HarnessFailure(RuntimeError):
    """The test bed could not do its part (blamed on the harness in the evidence)."""


class ProbeFailed(HarnessFailure):
    pass


class ContainerFailed(HarnessFailure):
    pass


class GatewayStuck(RuntimeError):
    """The Gateway would not come up, even after doctor --fix, where a fault needed it to (its setup): the Gateway's
    failure, reported as a finding of the case, never as a harness error."""


class RpcError(Exception):
    """The Gateway answered ok=false, or the socket failed; `code` is the Gateway's error code."""

    def __init__(self, method: str, message: str, code: str | None = None, details: Any = None, *,
                 answered: bool = False) -> None:
        super().__init__(f"{method}: {code + ' ' if code else ''}{message}")
        self.method, self.code, self.details, self.answered = method, code, details, answered


class MalformedAnswer(RpcError):
    """The Gateway answered ok, with a payload its own protocol does not have (e.g. sessions.list without a list)."""

    def __init__(self, method: str, message: str) -> None:
        super().__init__(method, message, "MALFORMED_ANSWER", answered=True)


class BuildError(Exception):
    def __init__(self, message: str, log_tail: list[str]) -> None:
        super().__init__(message)
        self.log_tail = log_tail


class UpgradeFailed(AssertionError):
    """The Gateway did not come up on the legacy state the way its contract says; the message names the evidence."""


class JSON5Error(ValueError):
    pass
