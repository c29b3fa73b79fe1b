# fuzz/fuzz.mk - fuzzing and sanitizer builds (included by the Makefile).
#
# Targets:
#   fuzz          each libFuzzer harness for FUZZ_SECONDS (default 600), one after another
#   fuzz-ci       each harness for FUZZ_CI_SECONDS (default 60); fails on any crash, leak or UB
#   fuzz-build    build the harnesses only (fuzz/build/fuzz_<name>)
#   fuzz-seeds    regenerate fuzz/fixed_jwks.h and fuzz/corpus/ (needs elixir)
#   fuzz-coverage line and branch coverage of c_src reached by the corpora (llvm-cov)
#   test-c-asan   the C unit tests (test/c) built with clang ASan + UBSan, and run
#   test-asan     the NIF built with ASan + UBSan, loaded into the BEAM (ASan runtime
#                 preloaded) for `mix test --include sanitizer --exclude asan_skip`
#   fuzz-clean
#
# Variables: CLANG (clang-14, else clang), FUZZ_SECONDS, FUZZ_CI_SECONDS, FUZZ_TARGETS,
# FUZZ_ARGS (extra libFuzzer flags), TEST_ASAN_ARGS (extra `mix test` arguments),
# ASAN_MIX_ROOT (the MIX_BUILD_ROOT test-asan uses, default fuzz/build/mix).
#
# Everything is compiled from the sources with clang here (never the gcc objects of
# `make all`), into fuzz/build/. The harnesses link the core (CORE_SRC, no nif.c).

CLANG ?= $(shell command -v clang-14 2>/dev/null || command -v clang 2>/dev/null)
FUZZ_BUILD := fuzz/build
FUZZ_SECONDS ?= 600
FUZZ_CI_SECONDS ?= 60
FUZZ_TARGETS ?= token jwks b64url claims
FUZZ_ARGS ?=

# Inputs longer than these teach the harness nothing new and slow it down.
FUZZ_MAX_LEN_token := 8192
FUZZ_MAX_LEN_jwks := 16384
FUZZ_MAX_LEN_b64url := 1024
FUZZ_MAX_LEN_claims := 4096

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fPIC $(WARN) -Ic_src
FUZZ_CORE_OBJ := $(CORE_SRC:c_src/%.c=$(FUZZ_BUILD)/fuzz/%.o)
ASAN_CORE_OBJ := $(CORE_SRC:c_src/%.c=$(FUZZ_BUILD)/asan/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
LLVM_PROFDATA ?= $(shell command -v llvm-profdata-14 2>/dev/null || command -v llvm-profdata 2>/dev/null)
LLVM_COV ?= $(shell command -v llvm-cov-14 2>/dev/null || command -v llvm-cov 2>/dev/null)
COV_FLAGS := -fprofile-instr-generate -fcoverage-mapping
COV_CORE_OBJ := $(CORE_SRC:c_src/%.c=$(FUZZ_BUILD)/cov/%.o)
COV_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/cov/fuzz_%)

ASAN_TESTS := $(patsubst test/c/%.c,$(FUZZ_BUILD)/asan/test/%,$(filter-out test/c/test_util.c,$(wildcard test/c/test_*.c)))
ASAN_NIF := $(FUZZ_BUILD)/asan/priv/jwks_verify_nif.so
ASAN_RUNTIME = $(shell $(CLANG) -print-file-name=libclang_rt.asan-x86_64.so)
# A build root of its own, so the ASan NIF never replaces the one in priv/.
ASAN_MIX_ROOT ?= $(CURDIR)/$(FUZZ_BUILD)/mix
ASAN_PRIV := $(ASAN_MIX_ROOT)/test/lib/jwks_verify/priv
TEST_ASAN_ARGS ?=

# Leak checking stays off in the BEAM: the VM does not free its own memory at
# exit, so every run would "leak". Leaks are the fuzzers' and test-c-asan's job.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: fuzz fuzz-ci fuzz-build fuzz-seeds fuzz-coverage fuzz-clean test-c-asan test-asan
# Objects named only through pattern rules would be deleted as intermediates.
.SECONDARY: $(FUZZ_CORE_OBJ) $(ASAN_CORE_OBJ) $(COV_CORE_OBJ) $(FUZZ_BUILD)/asan/nif.o

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz/%.o: c_src/%.c
	@mkdir -p $(dir $@)
	@echo " CLANG $< (fuzzer)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/asan/%.o: c_src/%.c
	@mkdir -p $(dir $@)
	@echo " CLANG $< (asan)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fixed_jwks.h $(FUZZ_CORE_OBJ)
	@echo " CLANG $< (libFuzzer)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Ifuzz $(SAN_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(FUZZ_CORE_OBJ) $(LDLIBS)

# One harness at a time (the machine's cores are shared): $(1) the harness, $(2) seconds.
# The first corpus directory collects new inputs; the seeds in fuzz/corpus stay as they are.
define fuzz_one
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts
	@echo "== fuzz_$(1) for $(2) s"
	$(FUZZ_BUILD)/fuzz_$(1) -max_total_time=$(2) -timeout=10 -rss_limit_mb=2048 \
	  -max_len=$(FUZZ_MAX_LEN_$(1)) -dict=fuzz/jose.dict -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- $(FUZZ_ARGS) \
	  $(FUZZ_BUILD)/corpus/$(1) fuzz/corpus/$(1)

endef

fuzz: $(FUZZ_BINS)
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_one,$(t),$(FUZZ_SECONDS)))

fuzz-ci: $(FUZZ_BINS)
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_one,$(t),$(FUZZ_CI_SECONDS)))

fuzz-seeds:
	elixir fuzz/gen_seeds.exs

# Source coverage: the harnesses built with clang's profile instrumentation
# replay the seeds and everything the fuzzers have found (fuzz/build/corpus).

$(FUZZ_BUILD)/cov/%.o: c_src/%.c
	@mkdir -p $(dir $@)
	@echo " CLANG $< (coverage)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(COV_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/cov/fuzz_%: fuzz/fuzz_%.c fuzz/fixed_jwks.h $(COV_CORE_OBJ)
	@echo " CLANG $< (coverage)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Ifuzz $(COV_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(COV_CORE_OBJ) $(LDLIBS)

fuzz-coverage: $(COV_BINS)
	@rm -f $(FUZZ_BUILD)/cov/*.profraw
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  LLVM_PROFILE_FILE=$(FUZZ_BUILD)/cov/$$t.profraw $(FUZZ_BUILD)/cov/fuzz_$$t -runs=0 \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t >/dev/null 2>&1 || exit 1; \
	done
	$(Q)$(LLVM_PROFDATA) merge -sparse $(FUZZ_BUILD)/cov/*.profraw -o $(FUZZ_BUILD)/cov/fuzz.profdata
	$(Q)$(LLVM_COV) report $(firstword $(COV_BINS)) $(addprefix -object ,$(wordlist 2,99,$(COV_BINS))) \
	  -instr-profile=$(FUZZ_BUILD)/cov/fuzz.profdata $(CORE_SRC)

$(FUZZ_BUILD)/asan/test/%: test/c/%.c test/c/test_util.c $(ASAN_CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo " CLANG $< (asan)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(SAN_FLAGS) -Itest/c -o $@ $< test/c/test_util.c $(ASAN_CORE_OBJ) $(LDLIBS)

# Runs every test program, then fails if any did.
test-c-asan: $(ASAN_TESTS)
	@status=0; for t in $(ASAN_TESTS); do \
	  echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $$t || status=1; \
	done; exit $$status

$(FUZZ_BUILD)/asan/nif.o: c_src/nif.c
	@mkdir -p $(dir $@)
	@echo " CLANG $< (asan)"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(SAN_FLAGS) -fvisibility=hidden -I$(ERTS_INCLUDE_DIR) -MMD -MP -c -o $@ $<

# -shared-libasan: the NIF takes the runtime from the preloaded libclang_rt.asan.
$(ASAN_NIF): $(ASAN_CORE_OBJ) $(FUZZ_BUILD)/asan/nif.o
	@mkdir -p $(dir $@)
	@echo " CLANG $@ (asan)"
	$(Q)$(CLANG) -shared $(SAN_FLAGS) -shared-libasan -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Compiles into its own build root (this also runs `make all` for priv/), swaps
# the ASan NIF into that root's priv/ (a copy, not the symlink to priv/), then
# runs the suite without compiling again, which would put the symlink back.
# Tests tagged :asan_skip are left out: ASan's quarantine and shadow memory
# make resident-size assertions meaningless.
test-asan: $(ASAN_NIF)
	MIX_ENV=test MIX_BUILD_ROOT=$(ASAN_MIX_ROOT) mix compile
	rm -rf $(ASAN_PRIV)
	mkdir -p $(ASAN_PRIV)
	cp $(ASAN_NIF) $(ASAN_PRIV)/
	LD_PRELOAD=$(ASAN_RUNTIME) $(ASAN_ENV) MIX_ENV=test MIX_BUILD_ROOT=$(ASAN_MIX_ROOT) \
	  mix test --no-compile --include sanitizer --exclude asan_skip $(TEST_ASAN_ARGS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_CORE_OBJ:.o=.d) $(ASAN_CORE_OBJ:.o=.d) $(COV_CORE_OBJ:.o=.d) $(FUZZ_BUILD)/asan/nif.d
-include $(FUZZ_BINS:=.d) $(COV_BINS:=.d)
