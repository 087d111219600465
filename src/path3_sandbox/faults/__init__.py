"""Crash and fault proof of the import: kill it, fill the disk, break the inputs, and show nothing is lost.

    fault.py      what a fault is (Fault) and what its injection may use of its case (InjectedCase)
    catalogue.py  the faults, one small object each: what it injects, which outcomes it allows
    kill.py       SIGKILL at a fixed offset or at an observed persistence point (an in-container watcher freezes
                  the Gateway at the point)
    case.py       one case: seed a fresh volume, inject, recover as a user would, judge
    result.py     what a case comes to (CaseResult): its verdict and its row
    judge.py      the nothing-lost oracle over the final state, counted from content
    run.py        the control case, then every fault (sweeps expanded); faults.md and faults.json
"""
