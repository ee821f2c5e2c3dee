"""TAP output for the Python test drivers: automake's tap-driver counts
every result line."""

_count = {"n": 0, "failed": 0}


def result(good, text):
    _count["n"] += 1
    if not good:
        _count["failed"] += 1
    print(("ok" if good else "not ok") + f" {_count['n']} - {text}", flush=True)


def eq(text, got, want):
    result(got == want, text if got == want else f"{text} (got {got!r}, want {want!r})")


def done():
    """Prints the plan; the exit status for main()."""
    print(f"1..{_count['n']}")
    return 1 if _count["failed"] else 0
