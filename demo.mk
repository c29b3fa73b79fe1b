# demo.mk - `make demo`, included by the Makefile.
#
# Installs what is missing (deps), builds, compiles demo/*.erl, then plays
# jwks_verify_demo: an issuer serving a fresh JWKS and an API guarded by
# jwks_verify_httpd, both on 127.0.0.1, and the requests that show what the
# guard lets through. Ends by itself in a few seconds; exits non-zero on an
# unexpected outcome.

DEMO_EBIN := _build/demo/ebin

.PHONY: demo

demo: deps
	@mkdir -p $(DEMO_EBIN)
	$(Q)erlc -Wall -o $(DEMO_EBIN) demo/*.erl
	$(Q)elixir -pa $(DEMO_EBIN) -S mix run -e ":jwks_verify_demo.main()"
