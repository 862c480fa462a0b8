/* Every Check suite of the unit-test runner. */
#ifndef PGPOOLD_TEST_SUITES_H
#define PGPOOLD_TEST_SUITES_H
#include <check.h>

Suite *proto_suite(void);
Suite *config_suite(void);
Suite *md5_suite(void);
Suite *scram_suite(void);
Suite *pool_passwd_suite(void);
Suite *pool_hba_suite(void);
Suite *status_suite(void);
Suite *pcp_codec_suite(void);
Suite *status_report_suite(void);
Suite *classify_suite(void);

#endif
