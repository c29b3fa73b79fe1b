# bench/bench.mk - `make bench`, the benchmark suite; included by the Makefile.
#
# Targets:
#   bench          build the NIF and the bench programs, run every measurement
#                  (bench/run.sh) and write bench/RESULTS.md, bench/results.json and the
#                  charts (results.svg, growth.svg); then the PHP table (php-bench,
#                  php/bench/RESULTS.md); about 6 minutes on 2 cores (the budget is 10)
#   bench-deps     `test-deps` (erlang-jose, jiffy, valgrind), plus the C peers' Debian packages when missing
#   bench-clean    remove bench/build
#
# Variables: BENCH_ROUND_MS (150) and BENCH_ROUNDS (11), the timing rounds;
# BENCH_MEMORY_N (1000000); BENCH_THROUGHPUT_MS (2000); BENCH_CALLGRIND_N (100);
# BENCH_GROWTH_ROUNDS (5) and BENCH_GROWTH_ROUND_MS (60), bench/growth.exs's rounds;
# BENCH_QUICK=1 for a short smoke run whose figures mean little.

BENCH_BUILD := bench/build
BENCH_DEB_PACKAGES := libcjose-dev libjwt-dev valgrind gnuplot-nox
BENCH_BINS := $(BENCH_BUILD)/floor $(BENCH_BUILD)/peers

.PHONY: bench bench-deps bench-clean

bench: $(NIF) $(BENCH_BINS)
	BENCH_BUILD=$(BENCH_BUILD) bash bench/run.sh
	$(MAKE) php-bench

# The Makefile's own installer, given the peers' packages.
bench-deps: test-deps
	$(call deb_install,$(BENCH_DEB_PACKAGES))

# The floor and the core in one program, linked against the very objects the NIF uses.
$(BENCH_BUILD)/floor: bench/floor.c bench/bench_util.h $(CORE_OBJ) c_src/jv.h | bench-deps
	@mkdir -p $(dir $@)
	@echo " CC $<"
	$(Q)$(CC) $(CFLAGS) -Ic_src -o $@ $< $(CORE_OBJ) $(LDFLAGS) $(LDLIBS)

$(BENCH_BUILD)/peers: bench/peers.c bench/bench_util.h | bench-deps
	@mkdir -p $(dir $@)
	@echo " CC $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lcjose -ljwt $(LDLIBS)

bench-clean:
	rm -rf $(BENCH_BUILD)
