dnl config.m4 - the jwks_verify PHP extension: `phpize && ./configure && make`.
dnl
dnl The binding is jwks_verify.c, the only file here that includes PHP's
dnl headers. The C core is compiled in place from ../c_src by Makefile.frag
dnl (every .c there but nif.c), so this file never lists core sources.

PHP_ARG_ENABLE([jwks_verify],
  [whether to enable jwks_verify],
  [AS_HELP_STRING([--enable-jwks_verify], [Enable JWT verification against a JWKS])],
  [yes])

if test "$PHP_JWKS_VERIFY" != "no"; then
  dnl The core needs OpenSSL 3 (EVP_PKEY_fromdata) and cJSON.
  PKG_CHECK_MODULES([JV_LIBCRYPTO], [libcrypto >= 3.0])
  PHP_EVAL_INCLINE($JV_LIBCRYPTO_CFLAGS)
  PHP_EVAL_LIBLINE($JV_LIBCRYPTO_LIBS, JWKS_VERIFY_SHARED_LIBADD)
  PHP_CHECK_LIBRARY(cjson, cJSON_ParseWithLengthOpts,
    [PHP_ADD_LIBRARY(cjson, 1, JWKS_VERIFY_SHARED_LIBADD)],
    [AC_MSG_ERROR([libcjson not found: apt-get install libcjson-dev])])
  PHP_SUBST(JWKS_VERIFY_SHARED_LIBADD)

  PHP_NEW_EXTENSION(jwks_verify, jwks_verify.c, $ext_shared,,
    [-I@ext_srcdir@/../c_src -std=c11 -fvisibility=hidden -Wall -Wextra])
  PHP_ADD_MAKEFILE_FRAGMENT
fi
