/* Unit-test runner: every suite in one binary, so one Check summary line. */
#include "suites.h"
#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, md5_suite());
	srunner_add_suite(sr, scram_suite());
	srunner_add_suite(sr, pool_passwd_suite());
	srunner_add_suite(sr, pool_hba_suite());
	srunner_add_suite(sr, status_suite());
	srunner_add_suite(sr, pcp_codec_suite());
	srunner_add_suite(sr, status_report_suite());
	srunner_add_suite(sr, classify_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
