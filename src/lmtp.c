/*
 * lmtp.c - one LMTP session (see lmtp.h).
 *
 * Runs in a connection thread of lmtpd.  Must never: answer 250 to a
 * message before the group committer reports its COMMIT, buffer input
 * without a bound (a command line is capped; message data is capped by
 * max_message_size and dropped beyond it), or reply before it has read
 * what a pipelining client sent ahead (replies go out in one write when
 * the next read would block).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "lmtp.h"

/* RFC 5321 allows 512 bytes with CRLF; parameters make it a little more */
#define MAX_COMMAND_LINE 2048
#define MAX_RECIPIENTS 1000
#define MAX_ERRORS 20
#define READ_CHUNK (64 * 1024)

typedef struct {
	const MdLmtpContext *ctx;
	GIOStream *stream;
	GInputStream *in;
	GOutputStream *out;
	GCancellable *cancel;
	GByteArray *rbuf; /* bytes read and not consumed, from rpos */
	gsize rpos;
	GString *wbuf;    /* replies not yet written */
	gboolean idle;    /* waiting for a command: shutdown may cut it */
	gboolean broken;  /* the connection failed; no more I/O */

	/* the transaction */
	gboolean lhlo;
	MdSite *site;     /* the configuration of this transaction */
	char *sender;     /* NULL before MAIL; "" for <> */
	GPtrArray *rcpts; /* char* */
	int errors;
} Session;

static GMutex registry_lock;
static GPtrArray *registry; /* Session* */
static gboolean stopping;

/* Writes the pending replies; FALSE when the client is gone. */
static gboolean
flush(Session *s)
{
	g_autoptr(GError) error = NULL;

	if (s->broken)
		return FALSE;
	if (s->wbuf->len == 0)
		return TRUE;
	/* not cancellable: a session cut at shutdown still says 421 (the
	 * socket's timeout bounds a write) */
	if (!g_output_stream_write_all(s->out, s->wbuf->str, s->wbuf->len, NULL, NULL, &error)) {
		log_debug("lmtp: write: %s", error->message);
		s->broken = TRUE;
		return FALSE;
	}
	g_string_truncate(s->wbuf, 0);
	return TRUE;
}

static void
reply(Session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
reply(Session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_string_append_vprintf(s->wbuf, fmt, ap);
	va_end(ap);
	g_string_append(s->wbuf, "\r\n");
}

/*
 * Reads more input after what is buffered.  The replies so far go out
 * first: the client may be waiting for them (RFC 2920).  FALSE on EOF,
 * error, timeout or shutdown.
 */
static gboolean
fill(Session *s)
{
	g_autoptr(GError) error = NULL;
	gsize old;
	gssize n;

	if (!flush(s))
		return FALSE;
	if (s->rpos > 0) {
		g_byte_array_remove_range(s->rbuf, 0, (guint)s->rpos);
		s->rpos = 0;
	}
	old = s->rbuf->len;
	g_byte_array_set_size(s->rbuf, (guint)(old + READ_CHUNK));
	n = g_input_stream_read(s->in, s->rbuf->data + old, READ_CHUNK, s->cancel, &error);
	g_byte_array_set_size(s->rbuf, (guint)(old + (n > 0 ? (gsize)n : 0)));
	if (n < 0) {
		log_debug("lmtp: read: %s", error->message);
		/* cancelled by shutdown: the socket still works for a 421 */
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			s->broken = TRUE;
		return FALSE;
	}
	return n > 0;
}

/*
 * The next command line, CR LF (or LF) removed, NUL-terminated in *line_r
 * (caller frees).  A line over MAX_COMMAND_LINE is consumed and reported
 * by *too_long_r.  FALSE when the connection ended.
 */
static gboolean
read_command(Session *s, char **line_r, gboolean *too_long_r)
{
	gsize scanned = 0;

	*too_long_r = FALSE;
	for (;;) {
		const guint8 *p = s->rbuf->data + s->rpos;
		gsize avail = s->rbuf->len - s->rpos;
		const guint8 *nl = avail > scanned ? memchr(p + scanned, '\n', avail - scanned) : NULL;

		if (nl != NULL) {
			gsize len = (gsize)(nl - p);

			s->rpos += len + 1;
			if (*too_long_r) {
				*line_r = g_strdup("");
				return TRUE;
			}
			if (len > 0 && p[len - 1] == '\r')
				len--;
			*line_r = g_strndup((const char *)p, len);
			return TRUE;
		}
		if (avail > MAX_COMMAND_LINE) {
			/* drop what we have; keep reading to the end of the line */
			*too_long_r = TRUE;
			s->rpos = s->rbuf->len;
			avail = 0;
		}
		scanned = avail;
		if (!fill(s))
			return FALSE;
	}
}

/*
 * Reads message data up to the lone ".", undoing dot-stuffing and
 * turning CR LF into LF, into msg.  Past limit bytes, data is read and
 * dropped and *too_big_r set.  FALSE when the connection ended first.
 */
static gboolean
read_data(Session *s, GByteArray *msg, gsize limit, gboolean *too_big_r)
{
	gboolean bol = TRUE;

	*too_big_r = FALSE;
	for (;;) {
		const guint8 *p = s->rbuf->data + s->rpos;
		gsize avail = s->rbuf->len - s->rpos;
		const guint8 *nl;
		gsize take, keep;

		/* enough bytes to decide: a line start needs ".", "\n" or ".\r\n";
		 * a lone CR may be the start of CR LF */
		if (avail == 0 || (bol && p[0] == '.' && (avail < 2 || (p[1] == '\r' && avail < 3))) ||
		    (avail == 1 && p[0] == '\r')) {
			if (!fill(s))
				return FALSE;
			continue;
		}
		if (bol && p[0] == '.') {
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				s->rpos += p[1] == '\n' ? 2 : 3;
				return TRUE;
			}
			s->rpos++; /* a stuffed dot */
			p++;
			avail--;
		}
		nl = memchr(p, '\n', avail);
		if (nl != NULL) {
			take = (gsize)(nl - p);
			keep = take > 0 && p[take - 1] == '\r' ? take - 1 : take;
			s->rpos += take + 1;
			bol = TRUE;
		} else {
			/* a partial line: keep a final CR, it may start CR LF */
			take = p[avail - 1] == '\r' ? avail - 1 : avail;
			keep = take;
			s->rpos += take;
			bol = FALSE;
		}
		if (!*too_big_r && msg->len + keep + 1 > limit) {
			*too_big_r = TRUE;
			g_byte_array_set_size(msg, 0);
		}
		if (!*too_big_r) {
			g_byte_array_append(msg, p, (guint)keep);
			if (bol)
				g_byte_array_append(msg, (const guint8 *)"\n", 1);
		}
	}
}

static void
transaction_reset(Session *s)
{
	g_clear_pointer(&s->sender, g_free);
	g_ptr_array_set_size(s->rcpts, 0);
	g_clear_pointer(&s->site, md_site_unref);
}

/* An address fit for the envelope: printable, no spaces or brackets. */
static gboolean
address_ok(const char *a)
{
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return FALSE;
	return strlen(a) <= 320;
}

/*
 * Parses "<path> params" after "MAIL FROM:" or "RCPT TO:".  Sets *addr_r
 * (caller frees) and *params_r (points into text).  FALSE on bad syntax.
 */
static gboolean
parse_path(const char *text, char **addr_r, const char **params_r)
{
	const char *end, *start;

	while (*text == ' ')
		text++;
	if (*text != '<')
		return FALSE;
	end = strchr(text, '>');
	if (end == NULL)
		return FALSE;
	start = text + 1;
	/* an obsolete source route "@a,@b:user@c" leads to the mailbox */
	if (*start == '@') {
		const char *colon = memchr(start, ':', (gsize)(end - start));

		if (colon == NULL)
			return FALSE;
		start = colon + 1;
	}
	*addr_r = g_strndup(start, (gsize)(end - start));
	if (!address_ok(*addr_r)) {
		g_clear_pointer(addr_r, g_free);
		return FALSE;
	}
	*params_r = end + 1;
	return TRUE;
}

static void
cmd_mail(Session *s, const char *args)
{
	g_autofree char *addr = NULL;
	g_auto(GStrv) params = NULL;
	const char *rest;
	MdSite *site;

	if (!s->lhlo) {
		reply(s, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->sender != NULL) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (!parse_path(args, &addr, &rest)) {
		reply(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	site = s->site;
	params = g_strsplit(g_strstrip((char *)rest), " ", -1);
	for (int i = 0; params[i] != NULL; i++) {
		const char *p = params[i];

		if (*p == '\0')
			continue;
		if (g_ascii_strncasecmp(p, "SIZE=", 5) == 0) {
			char *end;
			guint64 size = g_ascii_strtoull(p + 5, &end, 10);

			if (end == p + 5 || *end != '\0') {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if (size > (guint64)site->cfg->max_message_size) {
				reply(s, "552 5.3.4 Message too big for the helpdesk");
				return;
			}
		} else if (g_ascii_strcasecmp(p, "BODY=7BIT") == 0 ||
		           g_ascii_strcasecmp(p, "BODY=8BITMIME") == 0) {
			/* the raw bytes are kept as they come either way */
		} else {
			reply(s, "555 5.5.4 Unsupported parameter");
			return;
		}
	}
	s->sender = g_steal_pointer(&addr);
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(Session *s, const char *args)
{
	g_autofree char *addr = NULL;
	const char *rest;

	if (s->sender == NULL) {
		reply(s, "503 5.5.1 Send MAIL first");
		return;
	}
	if (!parse_path(args, &addr, &rest) || *addr == '\0') {
		reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	while (*rest == ' ')
		rest++;
	if (*rest != '\0') {
		reply(s, "555 5.5.4 Unsupported parameter");
		return;
	}
	if (s->rcpts->len >= MAX_RECIPIENTS) {
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	/* as pipe(8)'s flags h and u fold ${recipient} (contrib/postfix) */
	g_ptr_array_add(s->rcpts, g_ascii_strdown(addr, -1));
	reply(s, "250 2.1.5 Ok");
}

/* Commits the message for every recipient and answers each. */
static void
deliver_message(Session *s, GByteArray *msg)
{
	const MdLmtpContext *ctx = s->ctx;
	MdIntakeParsed parsed;
	guint n = s->rcpts->len;
	g_autofree MdCommitJob *jobs = g_new0(MdCommitJob, n);
	g_autofree MdCommitJob **ptrs = g_new0(MdCommitJob *, n);

	intake_parse(s->site->cfg, msg->data, msg->len, &parsed);
	for (guint i = 0; i < n; i++) {
		jobs[i].parsed = &parsed;
		jobs[i].env.sender = s->sender;
		jobs[i].env.recipient = s->rcpts->pdata[i];
		ptrs[i] = &jobs[i];
	}
	committer_run(ctx->committer, ptrs, n);
	for (guint i = 0; i < n; i++) {
		const char *rcpt = s->rcpts->pdata[i];

		if (jobs[i].status == MD_OK) {
			reply(s, "250 2.0.0 <%s> Ok ticket=%" G_GINT64_FORMAT, rcpt,
			      jobs[i].result.ticket);
		} else {
			g_autofree char *why = log_safe(jobs[i].result.error);
			g_autofree char *from = log_safe(s->sender);
			g_autofree char *to = log_safe(rcpt);

			log_error("from=<%s> to=<%s> status=deferred reason=\"%s\"", from, to, why);
			reply(s, "%d %s <%s> Temporary failure, try again later",
			      status_reply_code(jobs[i].status), status_enhanced_code(jobs[i].status),
			      rcpt);
		}
		md_intake_result_clear(&jobs[i].result);
	}
	intake_parsed_clear(&parsed);
}

static void
cmd_data(Session *s)
{
	g_autoptr(GByteArray) msg = NULL;
	gboolean too_big;
	gsize limit;

	if (s->sender == NULL) {
		reply(s, "503 5.5.1 Send MAIL first");
		return;
	}
	if (s->rcpts->len == 0) {
		reply(s, "503 5.5.1 No valid recipients");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	limit = (gsize)s->site->cfg->max_message_size;
	msg = g_byte_array_sized_new(16 * 1024);
	/* as pipe(8)'s flag R writes it: the envelope sender on record */
	{
		g_autofree char *rp = g_strdup_printf("Return-Path: <%s>\n", s->sender);

		g_byte_array_append(msg, (const guint8 *)rp, (guint)strlen(rp));
	}
	limit += msg->len;
	if (!read_data(s, msg, limit, &too_big))
		return;
	if (too_big) {
		g_autofree char *from = log_safe(s->sender);

		log_warning("from=<%s> status=bounced reason=\"message over %" G_GINT64_FORMAT
		            " bytes\"",
		            from, s->site->cfg->max_message_size);
		for (guint i = 0; i < s->rcpts->len; i++)
			reply(s, "552 5.3.4 <%s> Message too big for the helpdesk",
			      (char *)s->rcpts->pdata[i]);
	} else {
		deliver_message(s, msg);
	}
	transaction_reset(s);
}

/* Dispatches one command line; FALSE when the session must end. */
static gboolean
command(Session *s, const MdLmtpContext *ctx, const char *line)
{
	const char *sp = strchr(line, ' ');
	gsize vlen = sp ? (gsize)(sp - line) : strlen(line);
	const char *args = sp ? sp + 1 : "";

#define VERB(v) (vlen == strlen(v) && g_ascii_strncasecmp(line, v, vlen) == 0)
	if (VERB("LHLO")) {
		g_autoptr(MdSite) site = ctx->site_get(ctx->data);

		if (*args == '\0') {
			reply(s, "501 5.5.4 LHLO needs a host name");
			return TRUE;
		}
		transaction_reset(s);
		s->lhlo = TRUE;
		reply(s, "250-%s", site->cfg->hostname);
		reply(s, "250-PIPELINING");
		reply(s, "250-ENHANCEDSTATUSCODES");
		reply(s, "250-8BITMIME");
		reply(s, "250 SIZE %" G_GINT64_FORMAT, site->cfg->max_message_size);
	} else if (g_ascii_strncasecmp(line, "MAIL FROM:", 10) == 0) {
		if (s->site == NULL)
			s->site = ctx->site_get(ctx->data);
		cmd_mail(s, line + 10);
		if (s->sender == NULL)
			g_clear_pointer(&s->site, md_site_unref);
	} else if (g_ascii_strncasecmp(line, "RCPT TO:", 8) == 0) {
		cmd_rcpt(s, line + 8);
	} else if (VERB("DATA")) {
		cmd_data(s);
	} else if (VERB("RSET")) {
		transaction_reset(s);
		reply(s, "250 2.0.0 Ok");
	} else if (VERB("NOOP")) {
		reply(s, "250 2.0.0 Ok");
	} else if (VERB("QUIT")) {
		reply(s, "221 2.0.0 Bye");
		return FALSE;
	} else if (VERB("VRFY")) {
		reply(s, "252 2.5.2 Cannot verify, send some mail");
	} else if (VERB("HELO") || VERB("EHLO")) {
		reply(s, "500 5.5.1 This is LMTP: use LHLO");
		s->errors++;
	} else {
		reply(s, "500 5.5.2 Command not recognised");
		s->errors++;
	}
#undef VERB
	if (s->errors >= MAX_ERRORS) {
		reply(s, "421 4.7.0 Too many errors");
		return FALSE;
	}
	return TRUE;
}

/* Marks the session idle unless the daemon is stopping. */
static gboolean
enter_idle(Session *s)
{
	gboolean ok;

	g_mutex_lock(&registry_lock);
	ok = !stopping;
	s->idle = ok;
	g_mutex_unlock(&registry_lock);
	return ok;
}

static void
leave_idle(Session *s)
{
	g_mutex_lock(&registry_lock);
	s->idle = FALSE;
	g_mutex_unlock(&registry_lock);
}

void
lmtp_session_run(const MdLmtpContext *ctx, GIOStream *stream)
{
	Session s = { 0 };

	s.stream = stream;
	s.in = g_io_stream_get_input_stream(stream);
	s.out = g_io_stream_get_output_stream(stream);
	s.cancel = g_cancellable_new();
	s.rbuf = g_byte_array_sized_new(READ_CHUNK);
	s.wbuf = g_string_sized_new(1024);
	s.rcpts = g_ptr_array_new_with_free_func(g_free);
	s.ctx = ctx;

	g_mutex_lock(&registry_lock);
	if (registry == NULL)
		registry = g_ptr_array_new();
	g_ptr_array_add(registry, &s);
	g_mutex_unlock(&registry_lock);

	{
		g_autoptr(MdSite) site = ctx->site_get(ctx->data);

		reply(&s, "220 %s LMTP maildesk ready", site->cfg->hostname);
	}
	for (;;) {
		g_autofree char *line = NULL;
		gboolean too_long, got;

		/* a client between transactions may be cut at shutdown; one in
		 * the middle of a transaction is let finish its message */
		if (s.sender == NULL && !enter_idle(&s)) {
			reply(&s, "421 4.3.2 Shutting down, try again later");
			break;
		}
		got = read_command(&s, &line, &too_long);
		leave_idle(&s);
		if (!got) {
			if (g_cancellable_is_cancelled(s.cancel))
				reply(&s, "421 4.3.2 Shutting down, try again later");
			break;
		}
		if (too_long) {
			reply(&s, "500 5.5.2 Line too long");
			if (++s.errors >= MAX_ERRORS)
				break;
			continue;
		}
		if (!command(&s, ctx, line))
			break;
	}
	flush(&s);
	g_io_stream_close(stream, NULL, NULL);

	g_mutex_lock(&registry_lock);
	g_ptr_array_remove_fast(registry, &s);
	g_mutex_unlock(&registry_lock);

	transaction_reset(&s);
	g_ptr_array_unref(s.rcpts);
	g_string_free(s.wbuf, TRUE);
	g_byte_array_unref(s.rbuf);
	g_object_unref(s.cancel);
}

void
lmtp_shutdown(void)
{
	g_mutex_lock(&registry_lock);
	stopping = TRUE;
	for (guint i = 0; registry != NULL && i < registry->len; i++) {
		Session *s = registry->pdata[i];

		if (s->idle)
			g_cancellable_cancel(s->cancel);
	}
	g_mutex_unlock(&registry_lock);
}

guint
lmtp_sessions_active(void)
{
	guint n;

	g_mutex_lock(&registry_lock);
	n = registry != NULL ? registry->len : 0;
	g_mutex_unlock(&registry_lock);
	return n;
}

void
lmtp_abort_all(void)
{
	g_mutex_lock(&registry_lock);
	for (guint i = 0; registry != NULL && i < registry->len; i++)
		g_cancellable_cancel(((Session *)registry->pdata[i])->cancel);
	g_mutex_unlock(&registry_lock);
}
