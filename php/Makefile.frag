# The C core, compiled in place from ../c_src (never copied) into jvcore/ of the
# build directory: every .c there but nif.c (the Erlang binding), found by
# wildcard when make runs, so a new core file needs no edit here. The core
# does not see PHP's headers, only the flags of the top-level Makefile.
JV_CORE_DIR = $(srcdir)/../c_src
JV_CORE_SRC = $(filter-out $(JV_CORE_DIR)/nif.c,$(wildcard $(JV_CORE_DIR)/*.c))
JV_CORE_OBJ = $(patsubst $(JV_CORE_DIR)/%.c,jvcore/%.lo,$(JV_CORE_SRC))
JV_CORE_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -fvisibility=hidden \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes $(JV_WERROR)

shared_objects_jwks_verify += $(JV_CORE_OBJ)

EXTRA_CFLAGS += $(JV_WERROR)

jvcore/%.lo: $(JV_CORE_DIR)/%.c
	@mkdir -p jvcore
	$(LIBTOOL) --mode=compile $(CC) $(JV_CORE_CFLAGS) $(CFLAGS_CLEAN) -c $< -o $@ -MMD -MP -MF jvcore/$*.dep -MT $@

-include $(wildcard jvcore/*.dep)
