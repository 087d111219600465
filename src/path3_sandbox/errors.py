"""Every error path3-sandbox raises on purpose, and the exit code each one maps to.

    Path3Error
    ├── UsageError ................ exit 2: the input is wrong; the user can fix it
    │   ├── TargetError ........... an npm spec npm doesn't have, an unreadable or non-OpenClaw tarball
    │   └── FixtureError .......... a fixture whose manifest and files disagree, an unreadable state
    └── EnvironmentProblem ........ exit 3: this machine can't run the proof as it is
        ├── EngineUnavailable ..... no Docker engine answers and none can be installed here
        ├── BaseImageUnavailable .. the public base neither pulls nor can be built locally
        ├── ImageBuildFailed ...... the Gateway image build failed for a reason other than the target
        ├── GatewayNotReady ....... the Gateway container never became ready
        └── CaptureFailed ......... a writer release did not write what a capture recipe asks (fixtures capture)

A failed proof is not an error: it is a verdict (exit 1), written to the evidence. Ctrl-C or SIGTERM ends a
run with exit 130 once its containers and volumes are removed (signals.py).
Each message says what was expected, what was seen, and what to do about it.
"""

from __future__ import annotations

EXIT_PROOF_PASSED = 0
EXIT_PROOF_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


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
