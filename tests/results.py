"""PASS/FAIL lines of the Python test harnesses, in the format that
scripts/check.sh counts: "PASS suite/name: text" or "FAIL suite/name: text"."""


class Results:
    def __init__(self, path, suite):
        self.path = path            # None: print only
        self.suite = suite
        self.failed = 0

    def record(self, ok, name, text):
        self.failed += not ok
        line = f"{'PASS' if ok else 'FAIL'} {self.suite}/{name}: {text}"
        print(line, flush=True)
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")
