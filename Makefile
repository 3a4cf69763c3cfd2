.PHONY: run test bench bench-scale install

run:      ## install, migrate, load the sample, train, serve at http://127.0.0.1:8000
	scripts/run

test:     ## the whole test suite
	scripts/test

bench:    ## every benchmark; figures go to bench/results/ and BENCHMARKS.md
	scripts/install requirements-dev.txt && .venv/bin/python -m bench.run_all

bench-scale:  ## every stage at several catalogue sizes (bench/scale/); SCALE_SIZES=1000,2000,4000,8000 by default
	scripts/install requirements-dev.txt && nice -n 10 .venv/bin/python -m bench.scale.stages \
		--sizes $(or $(SCALE_SIZES),1000,2000,4000,8000) --connections 4 --http-duration 8 \
		&& nice -n 10 .venv/bin/python -m bench.scale.components

install:
	scripts/install requirements-dev.txt
