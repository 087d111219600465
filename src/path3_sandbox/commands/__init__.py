"""What each command does, one function per command (cli.py parses the arguments and dispatches here):

    proving.py    prove, repro, compat, matrix, path, live
    measuring.py  faults, bench, smoke
    fixtures.py   fixtures list | check | add | capture | redact
    common.py     the target and its image, a user's state as a fixture, the fixture set
"""
