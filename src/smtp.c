/*
 * smtp.c - SMTP submission to the configured relay with libcurl.
 *
 * Stage "send": the send command hands each outbox message to smtp_send
 * and records the result.  One CURL easy handle per MdSmtp, so libcurl's
 * connection cache keeps the relay connection open between messages; after
 * a failed transaction libcurl closes that connection and the next send
 * opens a fresh one.
 *
 * libcurl does not tell which recipient a reply belonged to, so a debug
 * callback follows the dialogue (commands out, replies in) to learn the
 * phase a failure happened in, the decisive reply code and text, and every
 * refused recipient.  That callback also writes the verbose trace, without
 * AUTH exchanges and without message bytes.
 *
 * Never guesses "permanent": only a 5xx reply to MAIL, to every RCPT, to
 * DATA or to the message itself is a PERMFAIL; everything else that is
 * not a success is a TEMPFAIL.  Never touches the database.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "smtp.h"

#define REPLY_MAX 300 /* bytes of a relay reply kept for the log */
#define DEFAULT_TIMEOUT 60
#define CONNECT_TIMEOUT_MAX 30

/* Where in the transaction the dialogue is; decides what a 5xx means. */
typedef enum {
	PHASE_SESSION, /* greeting, EHLO, STARTTLS, AUTH: relay set-up */
	PHASE_MAIL,
	PHASE_RCPT,
	PHASE_DATA,    /* DATA sent, waiting for 354 */
	PHASE_MESSAGE, /* message sent after 354, waiting for the final reply */
} Phase;

struct MdSmtp {
	CURL *curl;
	char *url;
	char *username;
	char *password;
	gboolean verbose;
	char errbuf[CURL_ERROR_SIZE];

	/* state of the current smtp_send */
	const guint8 *data;
	gsize len;
	gsize pos;
	Phase phase;
	gboolean awaiting;  /* a command (or the message) still has no reply */
	gboolean quitting;  /* QUIT sent: later replies decide nothing */
	int code;           /* last final reply code, 0 before any */
	GString *reply;     /* last final reply line, sanitized */
	GPtrArray *sent;    /* recipients offered to curl, in order (borrowed) */
	guint rcpt_next;    /* index in sent of the next RCPT command */
	int rcpt_pending;   /* index of the RCPT awaiting its reply, or -1 */
	GPtrArray *refused; /* MdSmtpRefusal */
};

static void
refusal_free(MdSmtpRefusal *r)
{
	g_free(r->rcpt);
	g_free(r->reply);
	g_free(r);
}

static void
refusal_add(MdSmtp *s, const char *rcpt, int code, const char *reply)
{
	MdSmtpRefusal *r = g_new0(MdSmtpRefusal, 1);

	r->rcpt = g_strdup(rcpt);
	r->code = code;
	r->reply = g_strdup(reply);
	g_ptr_array_add(s->refused, r);
}

void
smtp_global_init(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

		if (rc != CURLE_OK)
			g_error("curl_global_init: %s", curl_easy_strerror(rc));
		g_once_init_leave(&done, 1);
	}
}

/* Text from the relay or about an address, made safe for one log line. */
static void
sanitize_into(GString *out, const char *p, gsize n)
{
	gsize start = out->len;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	for (gsize i = 0; i < n && out->len - start < REPLY_MAX; i++) {
		guchar c = (guchar)p[i];

		g_string_append_c(out, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
}

static gboolean
address_ok(const char *a)
{
	for (const guchar *p = (const guchar *)a; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return FALSE;
	return TRUE;
}

static gboolean
has_prefix_ci(const char *p, gsize n, const char *prefix)
{
	gsize k = strlen(prefix);

	return n >= k && g_ascii_strncasecmp(p, prefix, k) == 0;
}

/* Commands safe to show in a trace; everything else may carry AUTH data. */
static gboolean
command_showable(const char *p, gsize n)
{
	static const char *const shown[] = {
		"EHLO", "HELO", "STARTTLS", "MAIL ", "RCPT ", "DATA", "RSET", "NOOP", "QUIT",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(shown); i++)
		if (has_prefix_ci(p, n, shown[i]))
			return TRUE;
	return FALSE;
}

static void
trace(const MdSmtp *s, const char *dir, const char *p, gsize n)
{
	g_autoptr(GString) line = g_string_new(NULL);

	if (!s->verbose)
		return;
	sanitize_into(line, p, n);
	g_printerr("smtp: %s %s\n", dir, line->str);
}

static void
command_seen(MdSmtp *s, const char *p, gsize n)
{
	if (command_showable(p, n))
		trace(s, ">", p, n);
	else
		trace(s, ">", "[not shown]", strlen("[not shown]"));
	if (s->quitting)
		return;
	if (has_prefix_ci(p, n, "QUIT")) {
		/* libcurl closing the connection after a failure */
		s->quitting = TRUE;
		return;
	}
	s->awaiting = TRUE;
	if (has_prefix_ci(p, n, "MAIL FROM:")) {
		s->phase = PHASE_MAIL;
	} else if (has_prefix_ci(p, n, "RCPT TO:")) {
		s->phase = PHASE_RCPT;
		s->rcpt_pending = (int)s->rcpt_next++;
	} else if (has_prefix_ci(p, n, "DATA")) {
		s->phase = PHASE_DATA;
	}
}

/* One reply line; only the last line of a multi-line reply counts. */
static void
reply_line_seen(MdSmtp *s, const char *p, gsize n)
{
	int code;

	trace(s, "<", p, n);
	if (n < 3 || !g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]))
		return;
	if ((n > 3 && p[3] == '-') || s->quitting)
		return;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	s->code = code;
	s->awaiting = FALSE;
	g_string_truncate(s->reply, 0);
	sanitize_into(s->reply, p, n);

	if (s->phase == PHASE_RCPT && s->rcpt_pending >= 0) {
		if (code / 100 != 2 && (guint)s->rcpt_pending < s->sent->len)
			refusal_add(s, g_ptr_array_index(s->sent, s->rcpt_pending), code, s->reply->str);
		s->rcpt_pending = -1;
	} else if (s->phase == PHASE_DATA && code == 354) {
		/* now the message is sent and its reply awaited */
		s->phase = PHASE_MESSAGE;
		s->awaiting = TRUE;
	}
}

static int
debug_cb(CURL *handle G_GNUC_UNUSED, curl_infotype type, char *p, size_t n, void *userp)
{
	MdSmtp *s = userp;

	switch (type) {
	case CURLINFO_HEADER_OUT:
		command_seen(s, p, n);
		break;
	case CURLINFO_HEADER_IN:
		/* libcurl passes one line per call; split anyway */
		while (n > 0) {
			const char *nl = memchr(p, '\n', n);
			gsize k = nl != NULL ? (gsize)(nl - p) + 1 : n;

			reply_line_seen(s, p, k);
			p += k;
			n -= k;
		}
		break;
	case CURLINFO_TEXT:
		trace(s, "*", p, n);
		break;
	default: /* message bytes and TLS records are never shown */
		break;
	}
	return 0;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	MdSmtp *s = userp;
	gsize n = MIN(size * nitems, s->len - s->pos);

	if (n > 0) {
		memcpy(buf, s->data + s->pos, n);
		s->pos += n;
	}
	return n;
}

/* The URL's path is what libcurl sends in EHLO. */
static char *
url_with_helo(const char *url, const char *helo)
{
	g_autofree char *path = NULL;
	char *out = NULL;
	char *tmp = NULL;
	CURLU *u;

	if (helo == NULL || *helo == '\0')
		return g_strdup(url);
	path = g_strconcat("/", helo, NULL);
	u = curl_url();
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &tmp, 0) == CURLUE_OK) {
		out = g_strdup(tmp);
		curl_free(tmp);
	}
	curl_url_cleanup(u);
	/* a URL curl cannot parse is reported by smtp_send as a tempfail */
	return out != NULL ? out : g_strdup(url);
}

static long
use_ssl_for(const char *starttls)
{
	if (starttls == NULL || g_strcmp0(starttls, "auto") == 0)
		return (long)CURLUSESSL_TRY;
	if (g_strcmp0(starttls, "never") == 0)
		return (long)CURLUSESSL_NONE;
	return (long)CURLUSESSL_ALL; /* "always", and fail closed on typos */
}

MdSmtp *
smtp_new(const MdSmtpConfig *cfg)
{
	MdSmtp *s = g_new0(MdSmtp, 1);
	long timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : DEFAULT_TIMEOUT;
	CURL *c;

	smtp_global_init();
	c = curl_easy_init();
	if (c == NULL)
		g_error("curl_easy_init failed");
	s->curl = c;
	s->url = url_with_helo(cfg->url != NULL ? cfg->url : "", cfg->helo);
	s->username = g_strdup(cfg->username);
	s->password = g_strdup(cfg->password);
	s->verbose = cfg->verbose;
	s->reply = g_string_new(NULL);
	s->refused = g_ptr_array_new_with_free_func((GDestroyNotify)refusal_free);
	s->sent = g_ptr_array_new();
	s->rcpt_pending = -1;

	curl_easy_setopt(c, CURLOPT_URL, s->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl_for(cfg->starttls));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
	if (s->username != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password != NULL ? s->password : "");
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, MIN(timeout, (long)CONNECT_TIMEOUT_MAX));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
#if LIBCURL_VERSION_NUM >= 0x080200
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, s);
	/* the debug callback runs only in verbose mode; it decides what to show */
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);
	return s;
}

void
smtp_free(MdSmtp *s)
{
	if (s == NULL)
		return;
	curl_easy_cleanup(s->curl);
	g_free(s->url);
	g_free(s->username);
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	g_free(s->password);
	g_string_free(s->reply, TRUE);
	g_ptr_array_unref(s->refused);
	g_ptr_array_unref(s->sent);
	g_free(s);
}

const GPtrArray *
smtp_refused(const MdSmtp *s)
{
	return s->refused;
}

/* AUTH trouble at MAIL time is the relay's set-up, not the message's. */
static gboolean
auth_code(int code)
{
	return code == 530 || code == 534 || code == 535 || code == 538;
}

static gboolean
all_refused(const MdSmtp *s)
{
	guint n = 0;

	for (guint i = 0; i < s->refused->len; i++)
		if (((const MdSmtpRefusal *)g_ptr_array_index(s->refused, i))->code != 0)
			n++;
	return n > 0 && n == s->sent->len;
}

/*
 * When every recipient was refused, any 4xx among them means a retry may
 * succeed: that code decides.
 */
static int
all_refused_code(const MdSmtp *s, int last)
{
	for (guint i = 0; i < s->refused->len; i++) {
		const MdSmtpRefusal *r = g_ptr_array_index(s->refused, i);

		if (r->code != 0 && r->code / 100 != 5)
			return r->code;
	}
	return last;
}

static MdSmtpResult
classify(CURLcode rc, Phase phase, int code)
{
	if (rc == CURLE_OK)
		return SMTP_SENT;
	if (code / 100 == 5 && phase != PHASE_SESSION && !auth_code(code))
		return SMTP_PERMFAIL;
	return SMTP_TEMPFAIL;
}

static void
append_refused(GString *d, const GPtrArray *refused)
{
	for (guint i = 0; i < refused->len; i++) {
		const MdSmtpRefusal *r = g_ptr_array_index(refused, i);

		g_string_append(d, i == 0 ? "; refused: <" : ", <");
		sanitize_into(d, r->rcpt, strlen(r->rcpt));
		g_string_append_printf(d, "> %s", r->reply);
	}
}

MdSmtpResult
smtp_send(MdSmtp *s, const char *env_from, const char *const *rcpts,
          const guint8 *data, gsize len, int *code_r, char **detail_r)
{
	struct curl_slist *list = NULL;
	GString *detail = g_string_new(NULL);
	CURLcode rc;
	int code;

	s->data = data;
	s->len = len;
	s->pos = 0;
	s->phase = PHASE_SESSION;
	s->awaiting = TRUE; /* the greeting, on a new connection */
	s->quitting = FALSE;
	s->code = 0;
	g_string_truncate(s->reply, 0);
	g_ptr_array_set_size(s->refused, 0);
	g_ptr_array_set_size(s->sent, 0);
	s->rcpt_next = 0;
	s->rcpt_pending = -1;
	s->errbuf[0] = '\0';

	for (gsize i = 0; rcpts != NULL && rcpts[i] != NULL; i++) {
		if (!address_ok(rcpts[i]) || *rcpts[i] == '\0') {
			refusal_add(s, rcpts[i], 0, "invalid address, not sent");
			continue;
		}
		list = curl_slist_append(list, rcpts[i]);
		if (list == NULL)
			g_error("curl_slist_append: out of memory");
		g_ptr_array_add(s->sent, (gpointer)rcpts[i]);
	}
	if (env_from == NULL || !address_ok(env_from) || s->sent->len == 0) {
		curl_slist_free_all(list);
		g_string_assign(detail, env_from == NULL || !address_ok(env_from)
		                            ? "invalid envelope sender, not sent"
		                            : "no valid recipient, not sent");
		append_refused(detail, s->refused);
		*code_r = 0;
		*detail_r = g_string_free(detail, FALSE);
		return SMTP_PERMFAIL;
	}

	/* libcurl turns both "" and "<>" into MAIL FROM:<> */
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, *env_from == '\0' ? "<>" : env_from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);

	/*
	 * A reply decides only if it answered the last command; when the
	 * relay went silent or away, earlier replies are stale.
	 */
	code = rc == CURLE_OK || !s->awaiting ? s->code : 0;
	if (rc == CURLE_OK) {
		g_string_append(detail, s->reply->str);
	} else if (code / 100 == 4 || code / 100 == 5) {
		if (s->phase == PHASE_RCPT && all_refused(s)) {
			code = all_refused_code(s, code);
			g_string_append(detail, "all recipients refused");
		} else {
			g_string_append(detail, s->reply->str);
		}
	} else {
		const char *e = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);

		code = 0; /* no reply decided this: the transport failed */
		sanitize_into(detail, e, strlen(e));
		if (s->reply->len > 0)
			g_string_append_printf(detail, " (last reply: %s)", s->reply->str);
	}
	append_refused(detail, s->refused);
	g_ptr_array_set_size(s->sent, 0); /* borrowed from rcpts */
	*code_r = code;
	*detail_r = g_string_free(detail, FALSE);
	return classify(rc, s->phase, code);
}
