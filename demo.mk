# demo.mk - `make demo`, included by the Makefile.
#
# Installs what is missing (deps), builds, then plays JwksVerify.Demo: an
# issuer serving a fresh JWKS and an API guarded by :jwks_verify_httpd, both
# on 127.0.0.1, and the requests that show what the guard lets through.
# Ends by itself in a few seconds; exits non-zero on an unexpected outcome.

.PHONY: demo

demo: deps
	$(Q)mix run -e "JwksVerify.Demo.main()"
