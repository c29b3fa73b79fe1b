/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 1ac600ffa5d8d676801dff349a95e71ba0575fac */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_JwksVerify_verify, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, jwt, IS_STRING, 0)
	ZEND_ARG_OBJ_INFO(0, keys, JwksVerify\\KeySet, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_JwksVerify_verify_jws, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, jws, IS_STRING, 0)
	ZEND_ARG_OBJ_INFO(0, keys, JwksVerify\\KeySet, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_JwksVerify_peek_unverified, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, jwt, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_JwksVerify_reasons, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_JwksVerify_KeySet___construct, 0, 0, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_class_JwksVerify_KeySet_fromJwks, 0, 1, JwksVerify\\KeySet, 0)
	ZEND_ARG_TYPE_INFO(0, json, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_JwksVerify_KeySet_info arginfo_JwksVerify_reasons

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_JwksVerify_VerificationException_getReason, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_JwksVerify_VerificationException_getDetail, 0, 0, IS_STRING, 1)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(JwksVerify_verify);
ZEND_FUNCTION(JwksVerify_verify_jws);
ZEND_FUNCTION(JwksVerify_peek_unverified);
ZEND_FUNCTION(JwksVerify_reasons);
ZEND_METHOD(JwksVerify_KeySet, __construct);
ZEND_METHOD(JwksVerify_KeySet, fromJwks);
ZEND_METHOD(JwksVerify_KeySet, info);
ZEND_METHOD(JwksVerify_VerificationException, getReason);
ZEND_METHOD(JwksVerify_VerificationException, getDetail);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("JwksVerify", verify, JwksVerify_verify, arginfo_JwksVerify_verify)
	ZEND_NS_FALIAS("JwksVerify", verify_jws, JwksVerify_verify_jws, arginfo_JwksVerify_verify_jws)
	ZEND_NS_FALIAS("JwksVerify", peek_unverified, JwksVerify_peek_unverified, arginfo_JwksVerify_peek_unverified)
	ZEND_NS_FALIAS("JwksVerify", reasons, JwksVerify_reasons, arginfo_JwksVerify_reasons)
	ZEND_FE_END
};


static const zend_function_entry class_JwksVerify_KeySet_methods[] = {
	ZEND_ME(JwksVerify_KeySet, __construct, arginfo_class_JwksVerify_KeySet___construct, ZEND_ACC_PRIVATE)
	ZEND_ME(JwksVerify_KeySet, fromJwks, arginfo_class_JwksVerify_KeySet_fromJwks, ZEND_ACC_PUBLIC|ZEND_ACC_STATIC)
	ZEND_ME(JwksVerify_KeySet, info, arginfo_class_JwksVerify_KeySet_info, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_JwksVerify_VerificationException_methods[] = {
	ZEND_ME(JwksVerify_VerificationException, getReason, arginfo_class_JwksVerify_VerificationException_getReason, ZEND_ACC_PUBLIC|ZEND_ACC_FINAL)
	ZEND_ME(JwksVerify_VerificationException, getDetail, arginfo_class_JwksVerify_VerificationException_getDetail, ZEND_ACC_PUBLIC|ZEND_ACC_FINAL)
	ZEND_FE_END
};

static zend_class_entry *register_class_JwksVerify_KeySet(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "JwksVerify", "KeySet", class_JwksVerify_KeySet_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}

static zend_class_entry *register_class_JwksVerify_VerificationException(zend_class_entry *class_entry_UnexpectedValueException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "JwksVerify", "VerificationException", class_JwksVerify_VerificationException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_UnexpectedValueException);

	zval property_reason_default_value;
	ZVAL_EMPTY_STRING(&property_reason_default_value);
	zend_string *property_reason_name = zend_string_init("reason", sizeof("reason") - 1, 1);
	zend_declare_typed_property(class_entry, property_reason_name, &property_reason_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_reason_name);

	zval property_detail_default_value;
	ZVAL_NULL(&property_detail_default_value);
	zend_string *property_detail_name = zend_string_init("detail", sizeof("detail") - 1, 1);
	zend_declare_typed_property(class_entry, property_detail_name, &property_detail_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING|MAY_BE_NULL));
	zend_string_release(property_detail_name);

	return class_entry;
}
