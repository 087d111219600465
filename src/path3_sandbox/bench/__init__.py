"""Import scaling (`path3-sandbox bench`): the real Gateway importing generated legacy states of growing size.

    generate.py  a legacy state of N sessions × M events, deterministic, in real releases' shapes
    measure.py   one size's import by the Gateway: time to ready, its report and manifest, the outcome
    memory.py    peak memory of the Gateway's containers, sampled
    probe.py     what the import left (database schema, rows, bytes; manifests; log lines), read inside the image
    floor.py     the same rows in one node:sqlite transaction: the floor the import is held against
    report.py    bench.json and bench.md
    plot.py      bench.png (matplotlib, an optional extra)
    run.py       the command: every size in turn, within a time limit each
"""
