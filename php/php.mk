# php/php.mk - the PHP extension's targets; included by the Makefile.
#
# Targets:
#   php                build php/modules/jwks_verify.so: phpize, ./configure and make in
#                      php/, which compiles the core from c_src/ in place (php/Makefile.frag)
#   php-deps           `deps`, plus the PHP toolchain's Debian packages when missing
#   php-test           the .phpt suite through PHP's run-tests.php, after exporting the
#                      Erlang API's answers for the parity test (php/tests/parity/)
#   php-test-valgrind  the same suite under valgrind with USE_ZEND_ALLOC=0: a test with
#                      any memcheck error or definitely lost byte fails (LEAK)
#   php-bench          php/bench/bench.php: µs per verification, written to php/bench/RESULTS.md
#   php-stub           regenerate php/jwks_verify_arginfo.h from php/jwks_verify.stub.php
#   php-clean          remove what phpize, configure and make left in php/, and _build/php
#
# Variables: PHP (php8.2), PHPIZE, PHP_CONFIG; PHP_TESTS (default php/tests, or some
# .phpt files); PHP_TEST_ARGS (more run-tests.php flags, e.g. -j2); BENCH_QUICK=1.

PHP ?= php8.2
PHPIZE ?= phpize8.2
PHP_CONFIG ?= php-config8.2
PHP_TESTS ?= php/tests
PHP_EXT := php/modules/jwks_verify.so
PHP_BUILD := _build/php
PHP_PARITY := $(PHP_BUILD)/parity.json
PHP_DEB_PACKAGES := pkg-config php8.2-dev php8.2-cli php-apcu valgrind
# Recursive: php may only exist once php-deps has run.
PHP_BIN = $(shell command -v $(PHP))

# run-tests.php without any php.ini (-n), so that the suite sees only this
# extension; the tests that start servers pass the same module on.
PHP_RUN_TESTS = TEST_PHP_EXECUTABLE=$(PHP_BIN) NO_INTERACTION=1 \
	JWKS_VERIFY_EXT=$(abspath $(PHP_EXT)) JWKS_VERIFY_PARITY=$(abspath $(PHP_PARITY)) \
	$(PHP_BIN) -n php/run-tests.php -q -n -d extension=$(abspath $(PHP_EXT)) --show-diff \
	$(PHP_TEST_ARGS)

.PHONY: php php-deps php-test php-test-valgrind php-bench php-stub php-clean

# The Makefile's own installer, given the PHP packages (as bench-deps does).
php-deps: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(PHP_DEB_PACKAGES)"

php: php-deps php/Makefile
	$(Q)$(MAKE) --no-print-directory -C php $(if $(filter 1,$(WERROR)),JV_WERROR=-Werror) \
	  $(if $(Q),>/dev/null)

php/configure: php/config.m4
	@echo " PHPIZE php"
	$(Q)cd php && $(PHPIZE) >phpize.log 2>&1 || { cat phpize.log; exit 1; }

# Makefile.frag is pasted into php/Makefile by configure.
php/Makefile: php/configure php/Makefile.frag
	@echo " CONFIGURE php"
	$(Q)cd php && ./configure --with-php-config=$(PHP_CONFIG) >configure.log 2>&1 || \
	  { tail -30 configure.log; exit 1; }

# What the Erlang API answers, from a plain erlc build of the modules it needs (the API,
# its NIF loader and caller-mistake module, and the guard for its details strings) and the
# NIF (no Mix needed); ebin/../priv is where jwks_verify_nif looks for the NIF.
PHP_PARITY_ERL := src/jwks_verify.erl src/jwks_verify_nif.erl src/jwks_verify_badarg.erl \
	src/jwks_verify_guard.erl
$(PHP_PARITY): $(NIF) $(PHP_PARITY_ERL) src/jwks_verify_opts.hrl \
		test/vectors/hostile.eterm test/fixtures/jwks.json $(wildcard test/fixtures/tokens/*.jwt) \
		php/tests/parity/export.exs
	@mkdir -p $(PHP_BUILD)/erl/ebin
	@ln -sfn $(abspath $(PRIV)) $(PHP_BUILD)/erl/priv
	@echo " ERLC $(PHP_BUILD)/erl/ebin"
	$(Q)erlc -I src -o $(PHP_BUILD)/erl/ebin $(PHP_PARITY_ERL)
	$(Q)elixir -pa $(PHP_BUILD)/erl/ebin php/tests/parity/export.exs $@

PHP_TEST_SUMMARY = { n[$$1] = $$2 } END { printf "%s: %d passed, %d failed, %d skipped\n", \
	t, n["passed"], n["failed"] + n["leaked"], n["skipped"] }

# run-tests.php's summary, ended by one plain "N passed, N failed, N skipped" line (a leak
# counts as a failure); the exit status is run-tests.php's.
define php_run_tests
	@mkdir -p $(PHP_BUILD)
	@{ $(PHP_RUN_TESTS) $(1) $(PHP_TESTS); echo $$? > $(PHP_BUILD)/run-tests.rc; } 2>&1 | \
	  tee $(PHP_BUILD)/run-tests.log
	@sed -n 's/^Tests \(passed\|failed\|leaked\|skipped\) *: *\([0-9]*\).*/\1 \2/p' \
	  $(PHP_BUILD)/run-tests.log | awk -v t=$(2) '$(PHP_TEST_SUMMARY)'
	@exit $$(cat $(PHP_BUILD)/run-tests.rc)
endef

php-test: php $(PHP_PARITY)
	$(call php_run_tests,,php-test)

# -m runs each test's PHP under valgrind -q; VALGRIND_OPTS adds the leak check, so the
# log, and the test, stays clean only with no error and no definitely lost block. PCRE's
# JIT reads past the subject in 16-byte loads, which memcheck reports: off here.
php-test-valgrind: export VALGRIND_OPTS = --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite
php-test-valgrind: php $(PHP_PARITY)
	$(call php_run_tests,-m -d pcre.jit=0,php-test-valgrind)

php-bench: php
	$(PHP_BIN) -n -d extension=$(abspath $(PHP_EXT)) php/bench/bench.php php/bench/RESULTS.md

# gen_stub.php needs nikic/php-parser, which it would download: Debian's php-parser instead.
php-stub: php/configure
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="php-parser"
	@mkdir -p php/build/PHP-Parser-4.15.1/lib
	@ln -sfn /usr/share/php/PhpParser php/build/PHP-Parser-4.15.1/lib/PhpParser
	$(PHP_BIN) php/build/gen_stub.php php/jwks_verify.stub.php

php-clean:
	-@[ ! -f php/Makefile ] || $(MAKE) --no-print-directory -C php distclean >/dev/null
	-@[ ! -f php/configure ] || (cd php && $(PHPIZE) --clean >/dev/null)
	rm -rf php/jvcore $(PHP_BUILD)
