# Shortcuts; each is the same as the python3 dev.py command.
.PHONY: run once test bench
run:
	python3 dev.py run
once:
	python3 dev.py once
test:
	python3 dev.py test
bench:
	.venv/bin/python benchmarks/matching.py && .venv/bin/python benchmarks/polling.py
