# jwks_verify - build, test and tooling.
#
# Targets:
#   all (default)  build priv/jwks_verify_nif.so (mix compile calls this)
#   deps           install the Debian packages building and running the library needs, when missing
#   test-deps      deps, plus the test, fuzz and rebar3 toolchain (valgrind, clang, erlang-jose, ...)
#   test           test-deps, then the C unit tests under valgrind, then `mix test`
#   test-c         the C unit tests under valgrind only
#   test-rebar3    the rebar3 build without Mix: fresh-clone compile and eunit, a consumer app
#                  (test/rebar3_consumer.sh; tests the committed HEAD)
#   format         clang-format the C sources, mix format the Elixir ones
#   fuzz, fuzz-ci, test-c-asan, test-asan, fuzz-coverage   see fuzz/fuzz.mk
#   bench          see bench/bench.mk;  demo   see demo.mk
#   clean
#
# Variables (environment or command line):
#   ERTS_INCLUDE_DIR  ERTS headers; asked of `erl` when unset
#   MIX_APP_PATH      where mix wants priv/ (unused here; priv/ is symlinked by mix)
#   CC, CFLAGS, LDFLAGS, WERROR=1 (.ci/run sets it; not implied by CI, so a user's
#   CI building us as a dependency is not broken by a newer compiler's warnings), V=1

CC ?= cc
BUILD ?= _build/c
PRIV := priv
NIF := $(PRIV)/jwks_verify_nif.so

ifeq ($(V),1)
Q :=
else
Q := @
endif

ERTS_INCLUDE_DIR ?= $(shell erl -noshell -eval 'io:format("~ts/erts-~ts/include", [code:root_dir(), erlang:system_info(version)]), halt().' 2>/dev/null)


WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden $(WARN)
LDLIBS := -lcrypto -lcjson

CORE_SRC := $(filter-out c_src/nif.c,$(wildcard c_src/*.c))
CORE_OBJ := $(CORE_SRC:c_src/%.c=$(BUILD)/%.o)
NIF_OBJ := $(BUILD)/nif.o

C_TESTS := $(patsubst test/c/%.c,$(BUILD)/test/%,$(filter-out test/c/test_util.c,$(wildcard test/c/test_*.c)))

# What building the NIF and running the library need (rebar3 users can drop elixir)...
DEB_PACKAGES := make gcc libc6-dev libssl-dev libcjson-dev erlang-dev erlang-base erlang-crypto \
	erlang-public-key erlang-ssl erlang-inets erlang-parsetools erlang-tools elixir
# ...and what the tests add: independent signers and JSON (jose, jiffy), PropEr, the openssl
# CLI for fixtures and test certificates, valgrind, clang for fuzz/ASan, rebar3 and git.
DEB_TEST_PACKAGES := openssl erlang-eunit erlang-syntax-tools erlang-jose erlang-jiffy \
	erlang-proper valgrind clang-14 libclang-rt-14-dev rebar3 git

.PHONY: all deps test-deps test test-c test-rebar3 format clean

all: $(NIF)

$(NIF): $(CORE_OBJ) $(NIF_OBJ)
	@mkdir -p $(PRIV)
	@echo " LD $@"
	$(Q)$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/nif.o: c_src/nif.c
	@mkdir -p $(dir $@)
	@echo " CC $<"
	$(Q)$(CC) $(CFLAGS) -I$(ERTS_INCLUDE_DIR) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: c_src/%.c
	@mkdir -p $(dir $@)
	@echo " CC $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/test/%: test/c/%.c test/c/test_util.c test/c/test_util.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo " CC $<"
	$(Q)$(CC) $(CFLAGS) -Ic_src -o $@ $< test/c/test_util.c $(CORE_OBJ) $(LDFLAGS) $(LDLIBS)

# $(call deb_install,PACKAGES): apt-get installs those of PACKAGES that are missing, and does
# nothing (no apt-get update either) when all are there. Used by deps, test-deps, bench-deps.
define deb_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call deb_install,$(DEB_PACKAGES))

test-deps: deps
	$(call deb_install,$(DEB_TEST_PACKAGES))

test-c: $(C_TESTS)
	@rc=0; for t in $(C_TESTS); do \
	  echo "== $$t"; \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    $$t || rc=1; \
	done; exit $$rc

test: test-deps
	$(MAKE) test-c
	mix test

test-rebar3: test-deps
	bash test/rebar3_consumer.sh

format:
	clang-format -i c_src/*.c c_src/*.h test/c/*.c
	mix format

clean:
	rm -rf $(BUILD) $(NIF)

-include $(wildcard fuzz/fuzz.mk bench/bench.mk demo.mk php/php.mk)
-include $(CORE_OBJ:.o=.d) $(NIF_OBJ:.o=.d)
