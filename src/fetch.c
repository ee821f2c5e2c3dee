/*
 * fetch.c - IMAP and POP3 intake with libetpan (see fetch.h for the
 * contract).  All of maildesk's IMAP and POP3 lives here; the commit is
 * intake's, the command line cmd_fetch.c's.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "fetch.h"
#include "log.h"
#include "parse_bounds.h"

/* a server's certificate chain longer than this is refused */
#define MAX_CHAIN 16
/* IDLE is renewed well inside the 29 minutes of RFC 2177 */
#define IDLE_RENEW_SECONDS (10 * 60)
/* pause after trouble in watch mode, doubling up to this */
#define MAX_RETRY_PAUSE 300

/* One open connection to one mailbox. */
typedef struct {
	const MdMailbox *mb;
	mailimap *imap;
	mailpop3 *pop3;
	gboolean can_idle;
	gboolean can_move;
	gboolean can_uidplus;
} Session;

/* What became of one message. */
typedef enum { TAKE_MARKED, TAKE_UNMARKED, TAKE_LEFT } TakeResult;

void
fetch_global_init(void)
{
	/* libetpan's own default is 5 minutes for every step; ours is per mailbox */
	mailstream_network_delay.tv_sec = 60;
	mailstream_network_delay.tv_usec = 0;
}

void
fetch_crlf_to_lf(GByteArray *raw)
{
	guint out = 0;

	for (guint i = 0; i < raw->len; i++) {
		if (raw->data[i] == '\r' && i + 1 < raw->len && raw->data[i + 1] == '\n')
			continue;
		raw->data[out++] = raw->data[i];
	}
	g_byte_array_set_size(raw, out);
}

/* local part without its +extension, and domain, lower case */
static char *
base_address(const char *addr, gboolean *has_extension_r)
{
	const char *at = strrchr(addr, '@');
	const char *plus = at != NULL ? memchr(addr, '+', (gsize)(at - addr)) : NULL;
	g_autofree char *joined = NULL;

	*has_extension_r = plus != NULL;
	if (plus == NULL)
		return g_ascii_strdown(addr, -1);
	joined = g_strdup_printf("%.*s%s", (int)(plus - addr), addr, at);
	return g_ascii_strdown(joined, -1);
}

/* The first address of list whose base is base and that has an extension. */
static char *
extended_address_in(InternetAddressList *list, const char *base)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list); i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		const char *addr;
		g_autofree char *b = NULL;
		gboolean ext = FALSE;

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		if (addr == NULL || strchr(addr, '@') == NULL)
			continue;
		b = base_address(addr, &ext);
		if (ext && strcmp(b, base) == 0)
			return g_strdup(addr);
	}
	return NULL;
}

/* The first header address of names that is base with a +extension. */
static char *
extended_address_in_headers(GMimeHeaderList *headers, const char *name, const char *base)
{
	for (int i = 0; i < g_mime_header_list_get_count(headers); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
		InternetAddressList *list;
		char *found;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		list = internet_address_list_parse(NULL, g_mime_header_get_value(h));
		found = extended_address_in(list, base);
		if (list != NULL)
			g_object_unref(list);
		if (found != NULL)
			return found;
	}
	return NULL;
}

char *
fetch_envelope_recipient(const guint8 *raw, gsize len, const char *configured, gsize max_header)
{
	static const char *const names[] = { "Delivered-To", "X-Original-To", "To", "Cc" };
	g_autofree char *base = NULL;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	gsize hlen = MIN(len, max_header);
	g_autofree guint8 *copy = NULL;
	char *found = NULL;
	gboolean ext;

	/* the header only: the body may be megabytes, and says nothing here */
	for (gsize i = 0; i + 1 < hlen; i++)
		if (raw[i] == '\n' && (raw[i + 1] == '\n' ||
		                       (raw[i + 1] == '\r' && i + 2 < hlen && raw[i + 2] == '\n'))) {
			hlen = i + 1;
			break;
		}
	base = base_address(configured, &ext);
	/* GMime parses the address fields as it builds the message: those it
	 * would recurse on without bound are blanked first, in a copy */
	copy = g_memdup2(raw, hlen);
	parse_bounds_defuse(copy, hlen);
	stream = g_mime_stream_mem_new_with_buffer((const char *)copy, hlen);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return g_strdup(configured);
	for (unsigned n = 0; found == NULL && n < G_N_ELEMENTS(names); n++)
		found = extended_address_in_headers(g_mime_object_get_header_list(GMIME_OBJECT(msg)),
		                                    names[n], base);
	g_object_unref(msg);
	return found != NULL ? found : g_strdup(configured);
}

/* ---- TLS ---- */

static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	const MdMailbox *mb = data;

	/* SNI: a server with several names shows the right certificate (an
	 * address is no name, RFC 6066) */
	if (!g_hostname_is_ip_address(mb->host))
		mailstream_ssl_set_server_name(ctx, mb->host);
}

/*
 * Verifies the peer's chain (DER, leaf first) for mb->host against the
 * system's CAs or mb->ca_file.  FALSE with *error_r.
 */
static gboolean
verify_chain(const MdMailbox *mb, mailstream *stream, char **error_r)
{
	carray *chain = mailstream_get_certificate_chain(stream);
	gnutls_x509_trust_list_t trust = NULL;
	gnutls_x509_crt_t certs[MAX_CHAIN];
	unsigned ncerts = 0, status = 0;
	gboolean ok = FALSE;
	int r;

	if (chain == NULL || carray_count(chain) == 0) {
		*error_r = g_strdup("the server showed no certificate");
		goto out;
	}
	if (carray_count(chain) > MAX_CHAIN) {
		*error_r = g_strdup("the server's certificate chain is too long");
		goto out;
	}
	for (unsigned i = 0; i < carray_count(chain); i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str, (unsigned)der->len };

		if (gnutls_x509_crt_init(&certs[ncerts]) < 0) {
			*error_r = g_strdup("out of memory");
			goto out;
		}
		ncerts++;
		if (gnutls_x509_crt_import(certs[ncerts - 1], &d, GNUTLS_X509_FMT_DER) < 0) {
			*error_r = g_strdup("the server's certificate cannot be read");
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&trust, 0) < 0) {
		*error_r = g_strdup("out of memory");
		goto out;
	}
	r = mb->ca_file != NULL
	            ? gnutls_x509_trust_list_add_trust_file(trust, mb->ca_file, NULL,
	                                                    GNUTLS_X509_FMT_PEM, 0, 0)
	            : gnutls_x509_trust_list_add_system_trust(trust, 0, 0);
	if (r <= 0) {
		*error_r = g_strdup_printf("no trusted certificates in %s",
		                           mb->ca_file ? mb->ca_file : "the system's store");
		goto out;
	}
	{
		gnutls_typed_vdata_st vdata[] = {
			{ GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)mb->host, 0 },
			{ GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0 },
		};

		r = gnutls_x509_trust_list_verify_crt2(trust, certs, ncerts, vdata,
		                                       G_N_ELEMENTS(vdata), 0, &status, NULL);
	}
	if (r < 0 || status != 0) {
		gnutls_datum_t why = { NULL, 0 };

		if (r >= 0 && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
		                                                           &why, 0) >= 0) {
			*error_r = g_strdup_printf("certificate of %s not trusted: %s", mb->host,
			                           (char *)why.data);
			gnutls_free(why.data);
		} else {
			*error_r = g_strdup_printf("certificate of %s not trusted: %s", mb->host,
			                           gnutls_strerror(r));
		}
		goto out;
	}
	ok = TRUE;
out:
	if (trust != NULL)
		gnutls_x509_trust_list_deinit(trust, 1);
	for (unsigned i = 0; i < ncerts; i++)
		gnutls_x509_crt_deinit(certs[i]);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return ok;
}

/* ---- sessions ---- */

static void
session_close(Session *s)
{
	if (s->imap != NULL) {
		if (s->imap->imap_stream != NULL)
			mailimap_logout(s->imap);
		mailimap_free(s->imap);
		s->imap = NULL;
	}
	if (s->pop3 != NULL) {
		/* QUIT is what makes POP3 deletions happen */
		if (s->pop3->pop3_stream != NULL)
			mailpop3_quit(s->pop3);
		mailpop3_free(s->pop3);
		s->pop3 = NULL;
	}
}

static gboolean
has_capability(mailimap *imap, const char *name)
{
	return mailimap_has_extension(imap, (char *)name) != 0;
}

/*
 * Whether the selected folder keeps flag for good: a server that drops
 * our keyword would hand every message out again at each run.  Without
 * a PERMANENTFLAGS response, everything is taken to be kept.
 */
static gboolean
flag_is_permanent(mailimap *imap, const char *flag)
{
	clist *perm = imap->imap_selection_info != NULL ? imap->imap_selection_info->sel_perm_flags
	                                                : NULL;

	if (perm == NULL || *flag == '\\')
		return TRUE;
	for (clistiter *it = clist_begin(perm); it != NULL; it = clist_next(it)) {
		struct mailimap_flag_perm *p = clist_content(it);

		if (p->fl_type == MAILIMAP_FLAG_PERM_ALL)
			return TRUE;
		if (p->fl_flag != NULL && p->fl_flag->fl_type == MAILIMAP_FLAG_KEYWORD &&
		    g_ascii_strcasecmp(p->fl_flag->fl_data.fl_keyword, flag) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Connects, protects, verifies and logs in; the status says what failed. */
static MdStatus
imap_open(Session *s)
{
	const MdMailbox *mb = s->mb;
	g_autofree char *error = NULL;
	struct mailimap_capability_data *caps = NULL;
	int r;

	s->imap = mailimap_new(0, NULL);
	if (s->imap == NULL)
		return MD_TEMPFAIL;
	mailimap_set_timeout(s->imap, mb->timeout);
	if (mb->security == MAILBOX_TLS)
		r = mailimap_ssl_connect_with_callback(s->imap, mb->host, (uint16_t)mb->port,
		                                       tls_setup, (void *)mb);
	else
		r = mailimap_socket_connect(s->imap, mb->host, (uint16_t)mb->port);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		log_error("mailbox=%s cannot connect to %s:%d (libetpan error %d)", mb->name,
		          mb->host, mb->port, r);
		return MD_TEMPFAIL;
	}
	if (mb->security == MAILBOX_STARTTLS &&
	    mailimap_socket_starttls_with_callback(s->imap, tls_setup, (void *)mb) !=
	            MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s %s:%d: STARTTLS failed; not going on in plain text", mb->name,
		          mb->host, mb->port);
		return MD_TEMPFAIL;
	}
	if (mb->security != MAILBOX_PLAIN && mb->verify_tls &&
	    !verify_chain(mb, s->imap->imap_stream, &error)) {
		log_error("mailbox=%s %s", mb->name, error);
		return MD_CONFIG;
	}
	r = mailimap_login(s->imap, mb->username, mb->password);
	if (r != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s %s:%d refused the login of %s (libetpan error %d)", mb->name,
		          mb->host, mb->port, mb->username, r);
		return r == MAILIMAP_ERROR_LOGIN ? MD_CONFIG : MD_TEMPFAIL;
	}
	/* what the server offers after the login, not before it */
	if (mailimap_capability(s->imap, &caps) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	s->can_idle = mailimap_has_idle(s->imap) != 0;
	s->can_move = has_capability(s->imap, "MOVE");
	s->can_uidplus = has_capability(s->imap, "UIDPLUS");
	/* move_to is made when missing (a NO for one that exists is no harm) */
	if (mb->move_to != NULL)
		mailimap_create(s->imap, mb->move_to);
	if ((r = mailimap_select(s->imap, mb->folder)) != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s cannot select folder \"%s\" (libetpan error %d)", mb->name,
		          mb->folder, r);
		return r == MAILIMAP_ERROR_SELECT ? MD_CONFIG : MD_TEMPFAIL;
	}
	for (char **f = mb->flags; *f != NULL; f++)
		if (!flag_is_permanent(s->imap, *f)) {
			log_error("mailbox=%s the server keeps no flag %s in \"%s\": set flag = \\Seen "
			          "or move_to",
			          mb->name, *f, mb->folder);
			return MD_CONFIG;
		}
	return MD_OK;
}

static MdStatus
pop3_open(Session *s)
{
	const MdMailbox *mb = s->mb;
	g_autofree char *error = NULL;
	int r;

	s->pop3 = mailpop3_new(0, NULL);
	if (s->pop3 == NULL)
		return MD_TEMPFAIL;
	mailpop3_set_timeout(s->pop3, mb->timeout);
	if (mb->security == MAILBOX_TLS)
		r = mailpop3_ssl_connect_with_callback(s->pop3, mb->host, (uint16_t)mb->port,
		                                       tls_setup, (void *)mb);
	else
		r = mailpop3_socket_connect(s->pop3, mb->host, (uint16_t)mb->port);
	if (r != MAILPOP3_NO_ERROR) {
		log_error("mailbox=%s cannot connect to %s:%d (libetpan error %d)", mb->name,
		          mb->host, mb->port, r);
		return MD_TEMPFAIL;
	}
	if (mb->security == MAILBOX_STARTTLS &&
	    mailpop3_socket_starttls_with_callback(s->pop3, tls_setup, (void *)mb) !=
	            MAILPOP3_NO_ERROR) {
		log_error("mailbox=%s %s:%d: STLS failed; not going on in plain text", mb->name,
		          mb->host, mb->port);
		return MD_TEMPFAIL;
	}
	if (mb->security != MAILBOX_PLAIN && mb->verify_tls &&
	    !verify_chain(mb, s->pop3->pop3_stream, &error)) {
		log_error("mailbox=%s %s", mb->name, error);
		return MD_CONFIG;
	}
	if ((r = mailpop3_user(s->pop3, mb->username)) != MAILPOP3_NO_ERROR ||
	    (r = mailpop3_pass(s->pop3, mb->password)) != MAILPOP3_NO_ERROR) {
		log_error("mailbox=%s %s:%d refused the login of %s (libetpan error %d)", mb->name,
		          mb->host, mb->port, mb->username, r);
		return r == MAILPOP3_ERROR_BAD_PASSWORD || r == MAILPOP3_ERROR_BAD_USER ? MD_CONFIG
		                                                                      : MD_TEMPFAIL;
	}
	return MD_OK;
}

static MdStatus
session_open(Session *s)
{
	MdStatus st = s->mb->pop3 ? pop3_open(s) : imap_open(s);

	if (st != MD_OK)
		session_close(s);
	return st;
}

/* ---- one message through intake ---- */

/*
 * Hands raw to intake.  MD_OK: committed, the caller may mark it.
 * Anything else: leave it on the server.
 */
static MdStatus
take(MdIntake *in, const MdMailbox *mb, GByteArray *raw, const char *where,
     MdFetchCounts *counts)
{
	g_autofree char *recipient = NULL;
	MdIntakeResult res = { 0 };
	MdEnvelope env = { 0 };
	MdStatus st;

	fetch_crlf_to_lf(raw);
	recipient = fetch_envelope_recipient(raw->data, raw->len, mb->recipient, 256 * 1024);
	/* the mailbox keeps no envelope sender: guard.c reads Return-Path */
	env.sender = NULL;
	env.recipient = recipient;
	st = intake_message(in, raw->data, raw->len, &env, &res);
	if (st != MD_OK) {
		g_autofree char *safe = log_safe(res.error);

		log_error("mailbox=%s %s status=deferred reason=\"%s\"", mb->name, where, safe);
	} else {
		log_info("mailbox=%s %s ticket=%" G_GINT64_FORMAT " action=%s", mb->name, where,
		         res.ticket, res.action);
		counts->queued += res.mail_queued;
	}
	md_intake_result_clear(&res);
	return st;
}

/* ---- IMAP ---- */

static struct mailimap_search_key *
plain_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	                               NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL,
	                               NULL, 0, NULL, NULL, NULL);
}

/* Matches a message that lacks flag. */
static struct mailimap_search_key *
key_lacking(const char *flag)
{
	if (g_ascii_strcasecmp(flag, "\\Seen") == 0)
		return plain_key(MAILIMAP_SEARCH_KEY_UNSEEN);
	if (g_ascii_strcasecmp(flag, "\\Flagged") == 0)
		return plain_key(MAILIMAP_SEARCH_KEY_UNFLAGGED);
	if (g_ascii_strcasecmp(flag, "\\Answered") == 0)
		return plain_key(MAILIMAP_SEARCH_KEY_UNANSWERED);
	return mailimap_search_key_new_unkeyword(strdup(flag));
}

/*
 * The UIDs still to take: those lacking any of our keywords (nobody else
 * sets them, and a person may well mark a message unread again), else,
 * with system flags only, those lacking any of them, else (the mark is a
 * move) the whole folder.
 */
static MdStatus
imap_pending(Session *s, GArray *uids)
{
	struct mailimap_search_key *key = NULL;
	gboolean keywords = FALSE;
	clist *result = NULL;
	int r;

	for (char **f = s->mb->flags; *f != NULL; f++)
		keywords |= **f != '\\';
	for (char **f = s->mb->flags; *f != NULL; f++) {
		struct mailimap_search_key *k;

		if (keywords && **f == '\\')
			continue;
		k = key_lacking(*f);
		key = key == NULL ? k : mailimap_search_key_new_or(key, k);
	}
	if (key == NULL)
		key = plain_key(MAILIMAP_SEARCH_KEY_ALL);
	r = mailimap_uid_search(s->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s UID SEARCH failed (libetpan error %d)", s->mb->name, r);
		return MD_TEMPFAIL;
	}
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		guint32 uid = *(uint32_t *)clist_content(it);

		g_array_append_val(uids, uid);
	}
	mailimap_search_result_free(result);
	return MD_OK;
}

/*
 * Fetches the size (and, when want_body, the whole message) of uid.
 * *found_r FALSE when the message went away meanwhile.
 */
static MdStatus
imap_fetch(Session *s, guint32 uid, gboolean want_body, guint32 *size_r, GByteArray **raw_r,
           gboolean *found_r)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	int r;

	*found_r = FALSE;
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	if (want_body)
		mailimap_fetch_type_new_fetch_att_list_add(
			ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s uid=%u UID FETCH failed (libetpan error %d)", s->mb->name, uid,
		          r);
		return MD_TEMPFAIL;
	}
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		guint32 this_uid = 0, size = 0;
		const char *body = NULL;
		gsize body_len = 0;

		/* a server may add unsolicited FETCH responses about other messages */
		for (clistiter *i = clist_begin(att->att_list); i != NULL; i = clist_next(i)) {
			struct mailimap_msg_att_item *item = clist_content(i);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				this_uid = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
				size = st->att_data.att_rfc822_size;
			else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			         st->att_data.att_body_section->sec_body_part != NULL) {
				body = st->att_data.att_body_section->sec_body_part;
				body_len = st->att_data.att_body_section->sec_length;
			}
		}
		if (this_uid != uid || *found_r)
			continue;
		*found_r = TRUE;
		*size_r = size;
		if (want_body && body != NULL) {
			*raw_r = g_byte_array_sized_new((guint)body_len);
			g_byte_array_append(*raw_r, (const guint8 *)body, (guint)body_len);
		} else if (want_body) {
			*found_r = FALSE;
		}
	}
	mailimap_fetch_list_free(result);
	return MD_OK;
}

static struct mailimap_flag_list *
flag_list(char **flags, gboolean deleted)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();

	for (char **f = flags; f != NULL && *f != NULL; f++) {
		struct mailimap_flag *flag;

		if (g_ascii_strcasecmp(*f, "\\Seen") == 0)
			flag = mailimap_flag_new_seen();
		else if (g_ascii_strcasecmp(*f, "\\Flagged") == 0)
			flag = mailimap_flag_new_flagged();
		else if (g_ascii_strcasecmp(*f, "\\Answered") == 0)
			flag = mailimap_flag_new_answered();
		else
			flag = mailimap_flag_new_flag_keyword(strdup(*f));
		mailimap_flag_list_add(list, flag);
	}
	if (deleted)
		mailimap_flag_list_add(list, mailimap_flag_new_deleted());
	return list;
}

static int
imap_add_flags(Session *s, guint32 uid, char **flags, gboolean deleted)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_store_att_flags *sa =
		mailimap_store_att_flags_new_add_flags_silent(flag_list(flags, deleted));
	int r = mailimap_uid_store(s->imap, set, sa);

	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	return r;
}

/*
 * The mark after the commit: the flags first (so a move carries them),
 * then the move: MOVE, else COPY, \Deleted and (UID) EXPUNGE.
 */
static gboolean
imap_mark(Session *s, guint32 uid)
{
	const MdMailbox *mb = s->mb;
	struct mailimap_set *set;
	int r = MAILIMAP_NO_ERROR;

	if (mb->flags[0] != NULL && (r = imap_add_flags(s, uid, mb->flags, FALSE)) !=
	                                    MAILIMAP_NO_ERROR) {
		log_warning("mailbox=%s uid=%u cannot set its flags (libetpan error %d)", mb->name,
		            uid, r);
		return FALSE;
	}
	if (mb->move_to == NULL)
		return TRUE;
	set = mailimap_set_new_single(uid);
	if (s->can_move) {
		r = mailimap_uid_move(s->imap, set, mb->move_to);
	} else if ((r = mailimap_uid_copy(s->imap, set, mb->move_to)) == MAILIMAP_NO_ERROR &&
	           (r = imap_add_flags(s, uid, NULL, TRUE)) == MAILIMAP_NO_ERROR) {
		/* without UIDPLUS, EXPUNGE also takes what others marked \Deleted */
		r = s->can_uidplus ? mailimap_uid_expunge(s->imap, set) : mailimap_expunge(s->imap);
	}
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		log_warning("mailbox=%s uid=%u cannot move it to \"%s\" (libetpan error %d)",
		            mb->name, uid, mb->move_to, r);
		return FALSE;
	}
	return TRUE;
}

/* One message: size check, fetch, intake, mark. */
static MdStatus
imap_take_one(MdIntake *in, Session *s, guint32 uid, TakeResult *result_r, MdFetchCounts *counts)
{
	const MdMailbox *mb = s->mb;
	g_autoptr(GByteArray) raw = NULL;
	g_autofree char *where = g_strdup_printf("uid=%u", uid);
	guint32 size = 0;
	gboolean found;
	MdStatus st;

	*result_r = TAKE_LEFT;
	/* the size first: a message over the limit is never downloaded */
	if ((st = imap_fetch(s, uid, FALSE, &size, NULL, &found)) != MD_OK || !found)
		return st;
	if ((gint64)size > in->cfg->max_message_size) {
		log_warning("mailbox=%s %s size=%u status=left reason=\"message over %" G_GINT64_FORMAT
		            " bytes\"",
		            mb->name, where, size, in->cfg->max_message_size);
		return MD_OK;
	}
	if ((st = imap_fetch(s, uid, TRUE, &size, &raw, &found)) != MD_OK || !found)
		return st;
	/* a server whose RFC822.SIZE understated it (both count CRLF line ends) */
	if ((gint64)raw->len > in->cfg->max_message_size) {
		log_warning("mailbox=%s %s size=%u status=left reason=\"message over %" G_GINT64_FORMAT
		            " bytes\"",
		            mb->name, where, raw->len, in->cfg->max_message_size);
		return MD_OK;
	}
	if ((st = take(in, mb, raw, where, counts)) != MD_OK)
		return st;
	*result_r = imap_mark(s, uid) ? TAKE_MARKED : TAKE_UNMARKED;
	return MD_OK;
}

/*
 * Takes every pending message; again while a pass took any, since mail
 * that arrives meanwhile is announced in responses libetpan consumes.
 */
static MdStatus
imap_take_all(MdIntake *in, Session *s, MdFetchCounts *counts, volatile sig_atomic_t *stop)
{
	g_autoptr(GHashTable) tried = g_hash_table_new(NULL, NULL);

	for (;;) {
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
		guint new_ones = 0;
		MdStatus st;

		if ((st = imap_pending(s, uids)) != MD_OK)
			return st;
		for (guint i = 0; i < uids->len && (stop == NULL || !*stop); i++) {
			guint32 uid = g_array_index(uids, guint32, i);
			TakeResult res;

			/* one left (too big, or its mark refused) is not tried twice a run */
			if (g_hash_table_contains(tried, GUINT_TO_POINTER(uid)))
				continue;
			g_hash_table_add(tried, GUINT_TO_POINTER(uid));
			new_ones++;
			st = imap_take_one(in, s, uid, &res, counts);
			if (st != MD_OK) {
				counts->left++;
				return st;
			}
			if (res != TAKE_LEFT)
				counts->taken++;
			if (res == TAKE_MARKED)
				counts->marked++;
			else
				counts->left++;
		}
		if (new_ones == 0 || (stop != NULL && *stop))
			return MD_OK;
	}
}

/*
 * IDLE until the server says something, *stop, or poll_interval (at most
 * IDLE_RENEW_SECONDS) passes: then the caller searches anyway, so that a
 * notice lost in a TLS buffer delays a message by poll_interval at most.
 * FALSE when the connection failed.
 */
static gboolean
imap_idle_wait(Session *s, volatile sig_atomic_t *stop)
{
	gint64 wait = MIN(s->mb->poll_interval, IDLE_RENEW_SECONDS);
	gint64 until = g_get_monotonic_time() + wait * G_USEC_PER_SEC;
	int r;

	if ((r = mailimap_idle(s->imap)) != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s IDLE failed (libetpan error %d)", s->mb->name, r);
		return FALSE;
	}
	for (;;) {
		struct pollfd pfd = { mailimap_idle_get_fd(s->imap), POLLIN, 0 };

		/* an update may already sit in libetpan's buffer, unseen by poll */
		if (s->imap->imap_stream->read_buffer_len > 0)
			break;
		if (*stop || g_get_monotonic_time() >= until)
			break;
		/* a second at a time, so that a signal is never missed for long */
		r = poll(&pfd, 1, 1000);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR) {
			log_error("mailbox=%s poll: %s", s->mb->name, g_strerror(errno));
			return FALSE;
		}
	}
	if ((r = mailimap_idle_done(s->imap)) != MAILIMAP_NO_ERROR) {
		log_error("mailbox=%s IDLE DONE failed (libetpan error %d)", s->mb->name, r);
		return FALSE;
	}
	return TRUE;
}

/* ---- POP3 ---- */

static MdStatus
pop3_take_all(MdIntake *in, Session *s, MdFetchCounts *counts, volatile sig_atomic_t *stop)
{
	const MdMailbox *mb = s->mb;
	carray *list = NULL;
	int r;

	if ((r = mailpop3_list(s->pop3, &list)) != MAILPOP3_NO_ERROR) {
		log_error("mailbox=%s LIST failed (libetpan error %d)", mb->name, r);
		return MD_TEMPFAIL;
	}
	for (unsigned i = 0; i < carray_count(list) && (stop == NULL || !*stop); i++) {
		struct mailpop3_msg_info *info = carray_get(list, i);
		g_autofree char *where = NULL;
		g_autoptr(GByteArray) raw = NULL;
		char *content = NULL;
		size_t len = 0;
		MdStatus st;

		if (info == NULL || info->msg_deleted)
			continue;
		where = g_strdup_printf("msg=%u", info->msg_index);
		if ((gint64)info->msg_size > in->cfg->max_message_size) {
			log_warning("mailbox=%s %s size=%u status=left reason=\"message over "
			            "%" G_GINT64_FORMAT " bytes\"",
			            mb->name, where, info->msg_size, in->cfg->max_message_size);
			counts->left++;
			continue;
		}
		if ((r = mailpop3_retr(s->pop3, info->msg_index, &content, &len)) !=
		    MAILPOP3_NO_ERROR) {
			log_error("mailbox=%s %s RETR failed (libetpan error %d)", mb->name, where, r);
			counts->left++;
			return MD_TEMPFAIL;
		}
		raw = g_byte_array_sized_new((guint)len);
		g_byte_array_append(raw, (const guint8 *)content, (guint)len);
		mailpop3_retr_free(content);
		if ((st = take(in, mb, raw, where, counts)) != MD_OK) {
			counts->left++;
			return st;
		}
		counts->taken++;
		/* deleted at QUIT: a connection lost before it deletes nothing,
		 * and the next run's copies are known to intake */
		if ((r = mailpop3_dele(s->pop3, info->msg_index)) != MAILPOP3_NO_ERROR) {
			log_warning("mailbox=%s %s DELE failed (libetpan error %d)", mb->name, where, r);
			counts->left++;
		} else {
			counts->marked++;
		}
	}
	return MD_OK;
}

/* ---- the two modes ---- */

MdStatus
fetch_mailbox_once(MdIntake *in, const MdMailbox *mb, MdFetchCounts *counts_r)
{
	Session s = { mb, NULL, NULL, FALSE, FALSE, FALSE };
	MdStatus st;

	memset(counts_r, 0, sizeof *counts_r);
	if ((st = session_open(&s)) != MD_OK)
		return st;
	st = mb->pop3 ? pop3_take_all(in, &s, counts_r, NULL) : imap_take_all(in, &s, counts_r, NULL);
	session_close(&s);
	return st;
}

/* Sleeps seconds, or less when *stop is set. */
static void
pause_for(int seconds, volatile sig_atomic_t *stop)
{
	for (int i = 0; i < seconds && !*stop; i++)
		sleep(1);
}

MdStatus
fetch_mailbox_watch(MdIntake *in, const MdMailbox *mb, volatile sig_atomic_t *stop,
                    MdFetchQueuedFunc queued, gpointer data)
{
	int retry = MIN(mb->poll_interval, 30);

	while (!*stop) {
		Session s = { mb, NULL, NULL, FALSE, FALSE, FALSE };
		MdFetchCounts counts = { 0 };
		MdStatus st = session_open(&s);

		if (st == MD_OK && mb->pop3) {
			/* a POP3 session sees no mail that arrives during it */
			st = pop3_take_all(in, &s, &counts, stop);
			session_close(&s);
			if (counts.queued > 0 && queued != NULL)
				queued(data);
			if (st == MD_OK) {
				retry = MIN(mb->poll_interval, 30);
				pause_for(mb->poll_interval, stop);
				continue;
			}
		} else if (st == MD_OK) {
			if (!s.can_idle)
				log_info("mailbox=%s the server has no IDLE: polling every %ds", mb->name,
				         mb->poll_interval);
			while (!*stop && (st = imap_take_all(in, &s, &counts, stop)) == MD_OK) {
				retry = MIN(mb->poll_interval, 30);
				if (counts.queued > 0 && queued != NULL)
					queued(data);
				counts.queued = 0;
				if (s.can_idle) {
					if (!imap_idle_wait(&s, stop)) {
						st = MD_TEMPFAIL;
						break;
					}
				} else {
					pause_for(mb->poll_interval, stop);
					if (!*stop && mailimap_noop(s.imap) != MAILIMAP_NO_ERROR) {
						st = MD_TEMPFAIL;
						break;
					}
				}
			}
			session_close(&s);
		}
		if (*stop)
			break;
		if (st == MD_CONFIG && counts.taken == 0) {
			/* a refused login or certificate: retried, but slowly */
			retry = MAX_RETRY_PAUSE;
		}
		log_warning("mailbox=%s trouble; trying again in %ds", mb->name, retry);
		pause_for(retry, stop);
		retry = MIN(retry * 2, MAX_RETRY_PAUSE);
	}
	return MD_OK;
}
