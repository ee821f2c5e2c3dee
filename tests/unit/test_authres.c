/* Unit tests: the DKIM verdict of our own Authentication-Results. */
#include "config.h"

#include "authres.h"

static void
test_pass(void)
{
	g_assert_true(authres_dkim_pass("mx.example.com; dkim=pass header.d=example.com header.s=sel",
	                                "mx.example.com", "example.com"));
	g_assert_true(authres_dkim_pass("MX.Example.COM 1; spf=pass smtp.mailfrom=example.com;\r\n"
	                                " dkim=pass (2048-bit key) header.d=EXAMPLE.com",
	                                "mx.example.com", "example.com"));
	g_assert_true(authres_dkim_pass("mx.example.com; dkim=pass header.i=@example.com",
	                                "mx.example.com", "example.com"));
	g_assert_true(authres_dkim_pass("mx.example.com; dkim=fail header.d=example.com; "
	                                "dkim=pass header.d=example.com",
	                                "mx.example.com", "example.com"));
	g_assert_true(authres_dkim_pass("mx.example.com (our mx); dkim=pass header.d=\"example.com\"",
	                                "mx.example.com", "example.com"));
}

static void
test_refused(void)
{
	/* someone else's verdict */
	g_assert_false(authres_dkim_pass("mx.evil.test; dkim=pass header.d=example.com",
	                                 "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com.evil.test; dkim=pass header.d=example.com",
	                                 "mx.example.com", "example.com"));
	/* not a pass */
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=fail header.d=example.com",
	                                 "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=none", "mx.example.com",
	                                 "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com; spf=pass smtp.mailfrom=example.com",
	                                 "mx.example.com", "example.com"));
	/* a pass for another domain proves nothing about the From */
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=pass header.d=evil.test",
	                                 "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=pass header.d=example.com.evil.test",
	                                 "mx.example.com", "example.com"));
	/* a pass hidden in a comment */
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=fail (dkim=pass header.d=example.com)",
	                                 "mx.example.com", "example.com"));
	/* no header, empty, garbage */
	g_assert_false(authres_dkim_pass(NULL, "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass("", "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass(";;;", "mx.example.com", "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=pass header.d=example.com", NULL,
	                                 "example.com"));
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=pass header.d=", "mx.example.com",
	                                 ""));
	g_assert_false(authres_dkim_pass("mx.example.com; dkim=pass header.d=example.com ((",
	                                 "mx.example.com", "other.test"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/authres/pass", test_pass);
	g_test_add_func("/authres/refused", test_refused);
	return g_test_run();
}
