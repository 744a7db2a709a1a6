/* The async-signal-safe encoder: escaping, numbers, nesting, truncation
 * (always valid JSON, always one line). */
#include "config.h"

#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "jsonw.h"
#include "unit.h"

static json_t *parse_line(const char *buf, size_t len)
{
	json_error_t err;
	json_t *j;

	ck_assert_msg(len > 0 && buf[len - 1] == '\n', "line must end in a newline");
	ck_assert_msg(memchr(buf, '\n', len - 1) == NULL, "exactly one line expected");
	j = json_loadb(buf, len, 0, &err);
	ck_assert_msg(j != NULL, "invalid JSON (%s): %.*s", err.text, (int)len, buf);
	return j;
}

START_TEST(numbers)
{
	char buf[256];
	struct jw w;
	json_t *j;

	audit_jw_init(&w, buf, sizeof buf);
	audit_jw_int(&w, "min", LLONG_MIN);
	audit_jw_int(&w, "neg", -42);
	audit_jw_uint(&w, "zero", 0);
	audit_jw_hex(&w, "hex", 0xdeadbeefUL);
	audit_jw_hex(&w, "hex0", 0);
	j = parse_line(buf, audit_jw_finish(&w));
	ASSERT_TRUE(json_integer_value(json_object_get(j, "min")) == LLONG_MIN);
	ASSERT_INT_EQ(json_integer_value(json_object_get(j, "neg")), -42);
	ASSERT_INT_EQ(json_integer_value(json_object_get(j, "zero")), 0);
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "hex")), "0xdeadbeef");
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "hex0")), "0x0");
	json_decref(j);
	/* jansson stops at INT64_MAX, so the largest value is checked as text. */
	audit_jw_init(&w, buf, sizeof buf);
	audit_jw_uint(&w, "max", ULLONG_MAX);
	buf[audit_jw_finish(&w)] = '\0';
	ASSERT_STR_EQ(buf, "{\"max\":18446744073709551615}\n");
}
END_TEST

START_TEST(escaping)
{
	char buf[512];
	struct jw w;
	json_t *j;
	const char nasty[] = "q\"b\\n\nt\tc\x01\x1f \xc3\xa9 bad\xff\xfe end";

	audit_jw_init(&w, buf, sizeof buf);
	audit_jw_str(&w, "s", nasty);
	audit_jw_str(&w, "null", NULL);
	audit_jw_strn(&w, "n", "abcdef", 3);
	j = parse_line(buf, audit_jw_finish(&w));
	/* Valid UTF-8 survives; invalid bytes become U+00XX. */
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "s")),
		      "q\"b\\n\nt\tc\x01\x1f \xc3\xa9 bad\xc3\xbf\xc3\xbe end");
	ASSERT_TRUE(json_is_null(json_object_get(j, "null")));
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "n")), "abc");
	json_decref(j);
}
END_TEST

/* Sequences that look like UTF-8 but that strict decoders refuse. */
START_TEST(invalid_utf8_forms_are_escaped)
{
	static const char *const bad[] = {
		"\xe0\x80\x80",          /* overlong NUL */
		"\xed\xa0\x80",          /* surrogate U+D800 */
		"\xf4\x90\x80\x80",      /* U+110000 */
		"\xf0\x80\x80\x80",      /* overlong */
		"\xc0\xaf",              /* overlong '/' */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char buf[128];
		struct jw w;
		json_t *j;

		audit_jw_init(&w, buf, sizeof buf);
		audit_jw_str(&w, "s", bad[i]);
		size_t n = audit_jw_finish(&w);
		ck_assert_msg(memchr(buf, 0xe0, n) == NULL || i != 0, "raw bytes copied");
		j = parse_line(buf, n);
		/* every byte became a \u00XX escape: U+00XX as UTF-8 is 2 bytes */
		ASSERT_UINT_EQ(strlen(json_string_value(json_object_get(j, "s"))), 2 * strlen(bad[i]));
		json_decref(j);
	}
}
END_TEST

START_TEST(nesting)
{
	char buf[512];
	struct jw w;
	json_t *j, *a;

	audit_jw_init(&w, buf, sizeof buf);
	audit_jw_obj_begin(&w, "o");
	audit_jw_arr_begin(&w, "a");
	audit_jw_el_int(&w, 1);
	audit_jw_el_str(&w, "two");
	audit_jw_el_hex(&w, 3);
	audit_jw_end(&w);
	audit_jw_arr_begin(&w, "empty");
	audit_jw_end(&w);
	audit_jw_end(&w);
	audit_jw_bool(&w, "t", true);
	audit_jw_null(&w, "z");
	j = parse_line(buf, audit_jw_finish(&w));
	a = json_object_get(json_object_get(j, "o"), "a");
	ASSERT_INT_EQ(json_array_size(a), 3);
	ASSERT_STR_EQ(json_string_value(json_array_get(a, 2)), "0x3");
	ASSERT_INT_EQ(json_array_size(json_object_get(json_object_get(j, "o"), "empty")), 0);
	ASSERT_TRUE(json_is_true(json_object_get(j, "t")));
	ASSERT_FALSE(json_object_get(j, "truncated") != NULL);
	json_decref(j);
}
END_TEST

/* Every buffer size from tiny to ample must give valid JSON, cut at a
 * field or element boundary, marked truncated when anything was lost. */
START_TEST(truncation_every_size)
{
	for (size_t cap = JW_RESERVE + 3; cap < 400; cap++) {
		char buf[400];
		struct jw w;
		json_t *j, *arr;

		audit_jw_init(&w, buf, cap);
		audit_jw_str(&w, "event", "signal.sigaction");
		audit_jw_obj_begin(&w, "act");
		audit_jw_arr_begin(&w, "mask");
		for (int i = 1; i <= 40; i++)
			audit_jw_el_int(&w, i);
		audit_jw_end(&w);
		audit_jw_end(&w);
		audit_jw_str(&w, "tail", "x\"y");
		size_t len = audit_jw_finish(&w);
		ck_assert_msg(len <= cap, "cap %zu: wrote %zu", cap, len);
		j = parse_line(buf, len);
		if (json_object_get(j, "tail") == NULL)
			ck_assert_msg(json_is_true(json_object_get(j, "truncated")),
				      "cap %zu: lost data without truncated:true: %.*s", cap, (int)len, buf);
		arr = json_object_get(json_object_get(j, "act"), "mask");
		/* Elements kept are a prefix, in order. */
		for (size_t i = 0; arr && i < json_array_size(arr); i++)
			ASSERT_INT_EQ(json_integer_value(json_array_get(arr, i)), (long long)i + 1);
		json_decref(j);
	}
}
END_TEST

START_TEST(string_never_split)
{
	char buf[JW_RESERVE + 40];
	struct jw w;
	json_t *j;

	audit_jw_init(&w, buf, sizeof buf);
	audit_jw_str(&w, "a", "short");
	audit_jw_str(&w, "b", "a string much too long to fit in what is left of this tiny buffer");
	j = parse_line(buf, audit_jw_finish(&w));
	ASSERT_STR_EQ(json_string_value(json_object_get(j, "a")), "short");
	ASSERT_TRUE(json_object_get(j, "b") == NULL);
	ASSERT_TRUE(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
}
END_TEST

START_TEST(depth_limit)
{
	char buf[512];
	struct jw w;
	json_t *j;

	audit_jw_init(&w, buf, sizeof buf);
	for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
		audit_jw_arr_begin(&w, i == 0 ? "deep" : NULL);
	for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
		audit_jw_end(&w);
	j = parse_line(buf, audit_jw_finish(&w));
	ASSERT_TRUE(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
}
END_TEST

START_TEST(fmt_helpers)
{
	char out[32];

	out[audit_fmt_u64(out, 1234567890123ULL)] = '\0';
	ASSERT_STR_EQ(out, "1234567890123");
	out[audit_fmt_i64(out, -7)] = '\0';
	ASSERT_STR_EQ(out, "-7");
	out[audit_fmt_hex(out, 0xabcUL)] = '\0';
	ASSERT_STR_EQ(out, "0xabc");
}
END_TEST

static Suite *jsonw_suite(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("encoder");

	tcase_add_test(tc, numbers);
	tcase_add_test(tc, escaping);
	tcase_add_test(tc, nesting);
	tcase_add_test(tc, invalid_utf8_forms_are_escaped);
	tcase_add_test(tc, truncation_every_size);
	tcase_add_test(tc, string_never_split);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, fmt_helpers);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(jsonw_suite)
