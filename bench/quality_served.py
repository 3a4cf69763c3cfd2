"""``python -m bench.quality_served``, the name the product brief gives: runs ``bench.quality.served``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("bench.quality.served", run_name="__main__")
