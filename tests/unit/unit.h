/* SPDX-License-Identifier: MIT */
/*
 * unit.h - one main() for every unit-test file: UNIT_MAIN("name", test, ...)
 * runs the listed check tests as one suite; exit status 0 when all passed.
 */
#ifndef USBOX_TESTS_UNIT_H
#define USBOX_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int unit_run(const char *name, const TTest *const *tests, size_t n,
			   void (*setup)(void), void (*teardown)(void))
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core");
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define UNIT_MAIN_FIXTURE(name, setup, teardown, ...)                                            \
	int main(void)                                                                           \
	{                                                                                        \
		const TTest *const tests[] = { __VA_ARGS__ };                                    \
		return unit_run(name, tests, sizeof(tests) / sizeof(tests[0]), setup, teardown); \
	}

#define UNIT_MAIN(name, ...) UNIT_MAIN_FIXTURE(name, NULL, NULL, __VA_ARGS__)

#endif
