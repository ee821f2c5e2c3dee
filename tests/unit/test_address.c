/* Unit tests: the addr-spec rule, our own addresses, and whom to answer. */
#include "config.h"

#include <string.h>

#include "address.h"

static MdQueue *
queue_new(const char *name, const char *addr)
{
	MdQueue *q = g_new0(MdQueue, 1);

	q->name = g_strdup(name);
	q->addresses = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(q->addresses, g_strdup(addr));
	return q;
}

static void
queue_free(MdQueue *q)
{
	g_free(q->name);
	g_ptr_array_unref(q->addresses);
	g_free(q);
}

static void
mailbox_free(MdMailbox *m)
{
	g_free(m->username);
	g_free(m);
}

/* A config with only what address.c reads. */
static MdConfig *
site_new(const char *delimiter)
{
	MdConfig *cfg = g_new0(MdConfig, 1);
	MdMailbox *box = g_new0(MdMailbox, 1);

	cfg->hostname = g_strdup("help.example.com");
	cfg->recipient_delimiter = g_strdup(delimiter);
	cfg->smtp_username = g_strdup("relay@example.net");
	cfg->queues = g_ptr_array_new_with_free_func((GDestroyNotify)queue_free);
	g_ptr_array_add(cfg->queues, queue_new("support", "support@example.com"));
	g_ptr_array_add(cfg->queues, queue_new("billing", "billing@example.com"));
	cfg->mailboxes = g_ptr_array_new_with_free_func((GDestroyNotify)mailbox_free);
	box->username = g_strdup("inbox@mail.example.net");
	g_ptr_array_add(cfg->mailboxes, box);
	return cfg;
}

static void
site_free(MdConfig *cfg)
{
	g_free(cfg->hostname);
	g_free(cfg->recipient_delimiter);
	g_free(cfg->smtp_username);
	g_ptr_array_unref(cfg->queues);
	g_ptr_array_unref(cfg->mailboxes);
	g_free(cfg);
}

static void
test_valid(void)
{
	static const char *const good[] = {
		"a@b.c", "first.last+tag@example.org", "o'brien@example.ie", "user@пример.рф",
		"x_y-z=1@sub.example.co.uk", "UPPER@EXAMPLE.ORG", "a!#$%&'*+-/=?^_`{|}~@x.example",
		"user@xn--e1afmkfd.xn--p1ai", "a@1.example", "a@example.c0m",
	};
	static const char *const bad[] = {
		NULL, "", "plain", "@example.org", "a@", "a@b", "root@localhost",
		/* quoted local parts: a comma, a space, an @, a quote, anything */
		"\"a,hidden@evil.example,b\"@example.org", "\"a b\"@example.org", "\"a\"@example.org",
		"\"a@b\"@example.org", "\"\\\"\"@example.org", "\"\"@example.org",
		/* literals and routes */
		"a@[127.0.0.1]", "a@[IPv6:::1]", "@relay.example:a@example.org", "a@192.0.2.7",
		"a@example.123",
		/* more than one address, a display name, a group */
		"x@y.z, z@w.v", "<x@y.z>", "Name <x@y.z>", "g: x@y.z;", "a@b.c@d.e",
		/* controls, spaces, non-ASCII local parts, comments */
		"a@b.c\r\nBcc: x@y.z", "a\x01@b.c", "a@b\x7f.c", "a b@example.org", "a@exa mple.org",
		"ж@example.org", "аlice@example.com", "a(comment)@example.org", "a@example.org(c)",
		/* dots */
		"a..b@example.org", ".a@example.org", "a.@example.org", "a@example..org",
		"a@.example.org", "a@example.org.",
		/* domain characters */
		"a@exa_mple.org", "a@example.org;", "a@example,org", "a@ex\\ample.org",
		"a@\"example\".org",
	};
	g_autofree char *a65 = g_strnfill(65, 'a');
	g_autofree char *long_local = g_strdup_printf("%s@example.org", a65);
	g_autofree char *long_all = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_test_message("good %s", good[i]);
		g_assert_true(address_valid(good[i]));
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("bad %s", bad[i] ? bad[i] : "(null)");
		g_assert_false(address_valid(bad[i]));
	}
	g_assert_false(address_valid(long_local));
	{
		GString *s = g_string_new("a@");

		while (s->len < 260)
			g_string_append(s, "abcdefgh.");
		g_string_append(s, "org");
		long_all = g_string_free(s, FALSE);
	}
	g_assert_false(address_valid(long_all));
	g_assert_false(address_valid("a@b\xff.org"));
}

static void
test_ours(void)
{
	MdConfig *cfg = site_new("+-");
	static const char *const ours[] = {
		"support@example.com", "SUPPORT@EXAMPLE.COM", "Support@Example.Com",
		"support+12-0123456789abcdef@example.com", "support+12-note-0123456789abcdef@example.com",
		"SUPPORT+12-AGENT-0123456789ABCDEF@example.com", "support+anything@example.com",
		"support-sales@example.com", "support+@example.com", "billing@example.com",
		"billing+3-csat5-0123456789abcdef@EXAMPLE.com", "\"support\"@example.com",
		"\"sup\\port\"@example.com", "support@example.com.", "support@ｅｘａｍｐｌｅ.com",
		"anyone@help.example.com", "MAILER@HELP.EXAMPLE.COM", "x@help.example.com.",
		"relay@example.net", "RELAY+bounce@example.net", "inbox@mail.example.net",
	};
	static const char *const theirs[] = {
		NULL, "", "support", "supporter@example.com", "support@example.org",
		"support@sub.example.com", "suppоrt@example.com" /* Cyrillic o */,
		"support@exаmple.com" /* Cyrillic a */, "alice@example.com", "support_x@example.com",
		"x@help.example.com.evil.org", "x@evil-help.example.com", "relay@example.com",
		"support.x@example.com", "s@example.com",
	};

	for (guint i = 0; i < G_N_ELEMENTS(ours); i++) {
		g_test_message("ours %s", ours[i]);
		g_assert_true(address_is_ours(cfg, ours[i]));
	}
	for (guint i = 0; i < G_N_ELEMENTS(theirs); i++) {
		g_test_message("theirs %s", theirs[i] ? theirs[i] : "(null)");
		g_assert_false(address_is_ours(cfg, theirs[i]));
	}
	site_free(cfg);

	/* without '-' among the delimiters, support-sales@ is somebody else */
	cfg = site_new("+");
	g_assert_false(address_is_ours(cfg, "support-sales@example.com"));
	g_assert_true(address_is_ours(cfg, "support+sales@example.com"));
	site_free(cfg);
}

static void
test_customer(void)
{
	MdConfig *cfg = site_new("+");
	MdMessage *msg = md_message_new();
	MdAddress spare = { 0 };
	const MdAddress *c;

	/* a web form: From us, Reply-To the customer */
	msg->from = md_address_new("Shop", "support@example.com");
	msg->reply_to = md_address_new("Ann", "ann@example.org");
	c = address_customer(cfg, msg, "bounce@shop.example", &spare);
	g_assert_cmpstr(c->addr, ==, "ann@example.org");
	g_assert_cmpstr(c->name, ==, "Ann");

	/* Reply-To a signed form of ours, From the customer */
	md_address_free(msg->from);
	md_address_free(msg->reply_to);
	msg->reply_to = md_address_new(NULL, "support+7-0123456789abcdef@example.com");
	msg->from = md_address_new("Bob", "bob@example.org");
	c = address_customer(cfg, msg, NULL, &spare);
	g_assert_cmpstr(c->addr, ==, "bob@example.org");

	/* both ours: the envelope sender */
	md_address_free(msg->from);
	msg->from = md_address_new(NULL, "SUPPORT@example.com");
	c = address_customer(cfg, msg, "shop@example.net", &spare);
	g_assert_true(c == &spare);
	g_assert_cmpstr(c->addr, ==, "shop@example.net");
	g_assert_null(c->name);

	/* nothing usable: nobody is written to */
	g_assert_null(address_customer(cfg, msg, "support+bounce@example.com", &spare));
	g_assert_null(address_customer(cfg, msg, "", &spare));
	g_assert_null(address_customer(cfg, msg, NULL, &spare));

	/* an unwritable Reply-To falls back to From */
	md_address_free(msg->reply_to);
	md_address_free(msg->from);
	msg->reply_to = md_address_new(NULL, "\"a,hidden@evil.example,b\"@example.org");
	msg->from = md_address_new(NULL, "carol@example.org");
	c = address_customer(cfg, msg, NULL, &spare);
	g_assert_cmpstr(c->addr, ==, "carol@example.org");

	md_message_free(msg);
	site_free(cfg);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/address/valid", test_valid);
	g_test_add_func("/address/ours", test_ours);
	g_test_add_func("/address/customer", test_customer);
	return g_test_run();
}
