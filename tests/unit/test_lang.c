/* Unit tests: language guess for templates. */
#include "config.h"

#include "lang.h"

static void
test_detect(void)
{
	g_assert_cmpstr(lang_detect(NULL, "Принтер не печатает", "Здравствуйте!"), ==, "ru");
	g_assert_cmpstr(lang_detect(NULL, "Printeris nedrukā", "Labdien, printeris nestrādā."), ==, "lv");
	g_assert_cmpstr(lang_detect(NULL, "Printer broken", "Hello, my printer is broken."), ==, "en");
	g_assert_cmpstr(lang_detect("ru-RU", "Printer", "Hello"), ==, "ru");
	g_assert_cmpstr(lang_detect("lv", NULL, NULL), ==, "lv");
	g_assert_cmpstr(lang_detect("de-DE", "Hallo", "Mein Drucker"), ==, "en");
	g_assert_null(lang_detect(NULL, NULL, NULL));
	g_assert_null(lang_detect(NULL, "", "12345"));
	/* a Russian customer quoting an English error message */
	g_assert_cmpstr(lang_detect(NULL, "Ошибка", "Выдаёт: Error 42 file not found"), ==, "ru");
	/* invalid UTF-8 is not a crash */
	g_assert_null(lang_detect(NULL, "\xff\xfe", "\xc3"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/lang/detect", test_detect);
	return g_test_run();
}
