/* php_jwks_verify.h - the jwks_verify extension's module entry. */
#ifndef PHP_JWKS_VERIFY_H
#define PHP_JWKS_VERIFY_H

extern zend_module_entry jwks_verify_module_entry;
#define phpext_jwks_verify_ptr &jwks_verify_module_entry

#define PHP_JWKS_VERIFY_VERSION "0.1.0"

#if defined(ZTS) && defined(COMPILE_DL_JWKS_VERIFY)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

#endif
