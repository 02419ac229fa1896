# The two commands of the README: `make demo` (set up and serve with a demo) and `make test`.
.PHONY: demo test lint format bench

demo:
	./scripts/demo

test:
	./scripts/test

lint:
	./scripts/bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
