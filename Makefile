.PHONY: run test bench install

run:      ## install, migrate, load the sample, train, serve at http://127.0.0.1:8000
	scripts/run

test:     ## the whole test suite
	scripts/test

bench:    ## every benchmark; figures go to bench/results/ and BENCHMARKS.md
	scripts/install requirements-dev.txt && .venv/bin/python -m bench.run_all

install:
	scripts/install requirements-dev.txt
