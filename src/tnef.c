/*
 * tnef.c - reading Outlook's TNEF streams with libytnef (see tnef.h).
 *
 * TNEF is a binary MAPI dump: we never parse it ourselves, libytnef does,
 * and this file only copies out the few things maildesk needs: the message
 * class, the plain body, and the attachments that are files.  Attachments
 * that are embedded messages (ATTACH_EMBEDDED_MSG: a forwarded or quoted
 * mail, possibly ours) or OLE objects are named in "skipped", never handed
 * on as files.
 *
 * libytnef reports a corrupt stream with printf() on stdout.  maildesk's
 * stdout is the MTA's channel (deliver's first output line is the status
 * Postfix reads on a tempfail), so while libytnef runs, stdout goes to
 * /dev/null, under a lock (lmtpd parses in several threads and nothing else
 * of maildesk writes stdout while it handles mail).
 *
 * libytnef (2.0) loses memory on some corrupt streams (a handler failing
 * midway, an attribute given twice); free_all() frees all it can reach.
 * The loss is bounded by the stream, itself bounded by the message size.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <ytnef.h>

#include "tnef.h"

#define TNEF_SIGNATURE 0x223E9F78u
/* PR_ATTACH_METHOD values that are not files (MS-OXCMSG 2.2.2.9) */
#define ATTACH_EMBEDDED_MSG 5
#define ATTACH_OLE 6
#define MAX_NAME_BYTES 1024

gboolean
tnef_is_tnef(const guint8 *data, gsize len)
{
	return data != NULL && len >= 4 &&
	       ((guint32)data[0] | (guint32)data[1] << 8 | (guint32)data[2] << 16 |
	        (guint32)data[3] << 24) == TNEF_SIGNATURE;
}

static GMutex stdout_lock;

/* libytnef's parse with its printf()s sent to /dev/null (see above). */
static int
parse_quietly(const guint8 *data, gsize len, TNEFStruct *tnef)
{
	int saved, null, rc;

	g_mutex_lock(&stdout_lock);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	rc = TNEFParseMemory((BYTE *)data, (long)len, tnef);
	fflush(stdout);
	if (saved >= 0 && null >= 0)
		dup2(saved, STDOUT_FILENO);
	if (null >= 0)
		close(null);
	if (saved >= 0)
		close(saved);
	g_mutex_unlock(&stdout_lock);
	return rc;
}

static variableLength *
property(MAPIProps *props, unsigned int type, unsigned int id)
{
	variableLength *v = MAPIFindProperty(props, PROP_TAG(type, id));

	return v == MAPI_UNDEFINED || v == NULL || v->data == NULL || v->size <= 0 ? NULL : v;
}

/* An 8-bit MAPI string: UTF-8 when it is, else Outlook's usual ANSI
 * code page; NUL padding dropped.  Caller frees. */
static char *
string8(const BYTE *data, gsize size)
{
	gsize n = strnlen((const char *)data, size);
	char *s;

	if (g_utf8_validate((const char *)data, (gssize)n, NULL))
		return g_strndup((const char *)data, n);
	s = g_convert((const char *)data, (gssize)n, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
	return s != NULL ? s : g_utf8_make_valid((const char *)data, (gssize)n);
}

/* A PT_UNICODE property: libytnef has turned its UTF-16 into UTF-8 (not
 * always valid: surrogates are encoded one by one) in a NUL-terminated
 * buffer of 3 * size / 2 + 1 bytes, size still the UTF-16 one.  Caller frees. */
static char *
unicode(const BYTE *data, gsize size)
{
	gsize n = strnlen((const char *)data, 3 * size / 2 + 1);

	return g_utf8_make_valid((const char *)data, (gssize)n);
}

/* A string property in either form, or NULL.  Caller frees. */
static char *
string_property(MAPIProps *props, unsigned int id)
{
	variableLength *v;

	if ((v = property(props, PT_UNICODE, id)) != NULL)
		return unicode(v->data, (gsize)v->size);
	if ((v = property(props, PT_STRING8, id)) != NULL)
		return string8(v->data, (gsize)v->size);
	return NULL;
}

static char *
nonempty(char *s)
{
	if (s != NULL) {
		g_strstrip(s);
		if (*s == '\0' || strlen(s) > MAX_NAME_BYTES)
			g_clear_pointer(&s, g_free);
	}
	return s;
}

static void
file_free(MdTnefFile *f)
{
	g_free(f->filename);
	g_free(f->content_type);
	if (f->data != NULL)
		g_bytes_unref(f->data);
	g_free(f);
}

/* A MIME type for data called name: the MIME tag Outlook wrote when it is
 * one, else GIO's guess from the name and the bytes. */
static char *
content_type_of(Attachment *a, const char *name, const BYTE *data, gsize size)
{
	g_autofree char *tag = string_property(&a->MAPI, PR_ATTACH_MIME_TAG);
	g_autofree char *guess = NULL;
	char *mime;

	if (tag != NULL) {
		g_strstrip(tag);
		if (strchr(tag, '/') != NULL && strchr(tag, ' ') == NULL && strlen(tag) < 128)
			return g_ascii_strdown(tag, -1);
	}
	guess = g_content_type_guess(name, data, size, NULL);
	mime = guess != NULL ? g_content_type_get_mime_type(guess) : NULL;
	return mime != NULL ? mime : g_strdup("application/octet-stream");
}

static void
read_attachment(MdTnef *out, Attachment *a)
{
	variableLength *method = property(&a->MAPI, PT_LONG, PR_ATTACH_METHOD);
	char *name = nonempty(string_property(&a->MAPI, PR_ATTACH_LONG_FILENAME));
	MdTnefFile *f;

	if (name == NULL)
		name = nonempty(string_property(&a->MAPI, PR_ATTACH_FILENAME));
	if (name == NULL && a->Title.data != NULL && a->Title.size > 0)
		name = nonempty(string8(a->Title.data, (gsize)a->Title.size));
	if (method != NULL && method->size >= 4) {
		guint32 m = (guint32)method->data[0] | (guint32)method->data[1] << 8 |
		            (guint32)method->data[2] << 16 | (guint32)method->data[3] << 24;

		if (m == ATTACH_EMBEDDED_MSG || m == ATTACH_OLE) {
			g_ptr_array_add(out->skipped, name != NULL ? name
			                                           : g_strdup(m == ATTACH_OLE ? "OLE object"
			                                                                      : "message"));
			return;
		}
	}
	if (a->FileData.data == NULL || a->FileData.size <= 0) {
		/* nothing to hand on: an object kept only as PR_ATTACH_DATA_OBJ */
		if (property(&a->MAPI, PT_OBJECT, PR_ATTACH_DATA_OBJ) != NULL)
			g_ptr_array_add(out->skipped, name != NULL ? name : g_strdup("object"));
		else
			g_free(name);
		return;
	}
	f = g_new0(MdTnefFile, 1);
	f->filename = name != NULL ? name : g_strdup("attachment");
	f->content_type = content_type_of(a, f->filename, a->FileData.data, (gsize)a->FileData.size);
	f->data = g_bytes_new(a->FileData.data, (gsize)a->FileData.size);
	g_ptr_array_add(out->files, f);
}

/*
 * The MAPI name of a down-level (MS Mail) message class, as Outlook itself
 * maps them: a read receipt's attMessageClass is often only
 * "IPM.Microsoft Mail.Read Receipt".  Takes cls, returns it or its MAPI name.
 */
static char *
mapi_class(char *cls)
{
	static const char *const names[][2] = {
		{ "IPM.Microsoft Mail.Note", "IPM.Note" },
		{ "IPM.Microsoft Mail.Read Receipt", "Report.IPM.Note.IPNRN" },
		{ "IPM.Microsoft Mail.Non-Delivery", "Report.IPM.Note.NDR" },
		{ "IPM.Microsoft Schedule.MtgReq", "IPM.Schedule.Meeting.Request" },
		{ "IPM.Microsoft Schedule.MtgRespP", "IPM.Schedule.Meeting.Resp.Pos" },
		{ "IPM.Microsoft Schedule.MtgRespN", "IPM.Schedule.Meeting.Resp.Neg" },
		{ "IPM.Microsoft Schedule.MtgRespA", "IPM.Schedule.Meeting.Resp.Tent" },
		{ "IPM.Microsoft Schedule.MtgCncl", "IPM.Schedule.Meeting.Canceled" },
	};

	for (unsigned i = 0; cls != NULL && i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(cls, names[i][0]) == 0) {
			g_free(cls);
			return g_strdup(names[i][1]);
		}
	return cls;
}

/*
 * TNEFFree() and what it forgets: attachment attributes before the first
 * attAttachRenddata land in the list head, which TNEFFree() never frees.
 */
static void
free_all(TNEFStruct *tnef)
{
	TNEFFree(tnef);
	TNEFFreeAttachment(&tnef->starting_attach);
}

MdTnef *
tnef_read(const guint8 *data, gsize len)
{
	TNEFStruct tnef;
	MdTnef *out;
	char *cls;

	if (!tnef_is_tnef(data, len) || len > TNEF_MAX_BYTES)
		return NULL;
	TNEFInitialize(&tnef);
	tnef.Debug = 0;
	/* libytnef allocates each field at the size the stream claims, up to
	 * this many MB: no field can be longer than the stream itself */
	tnef.attachmentSize = (int)(len >> 20) + 1;
	if (parse_quietly(data, len, &tnef) != 0) {
		free_all(&tnef);
		return NULL;
	}
	out = g_new0(MdTnef, 1);
	out->files = g_ptr_array_new_with_free_func((GDestroyNotify)file_free);
	out->skipped = g_ptr_array_new_with_free_func(g_free);

	cls = nonempty(string_property(&tnef.MapiProperties, PR_MESSAGE_CLASS));
	if (cls == NULL)
		cls = mapi_class(nonempty(string8((const BYTE *)tnef.messageClass,
		                                  sizeof tnef.messageClass)));
	out->message_class = cls;

	out->body = string_property(&tnef.MapiProperties, PR_BODY);
	if (out->body == NULL && tnef.body.data != NULL && tnef.body.size > 0)
		out->body = string8(tnef.body.data, (gsize)tnef.body.size);
	out->has_rtf = property(&tnef.MapiProperties, PT_BINARY, PR_RTF_COMPRESSED) != NULL;

	for (Attachment *a = tnef.starting_attach.next; a != NULL; a = a->next)
		read_attachment(out, a);
	free_all(&tnef);
	return out;
}

void
tnef_free(MdTnef *t)
{
	if (t == NULL)
		return;
	g_free(t->message_class);
	g_free(t->body);
	g_ptr_array_unref(t->files);
	g_ptr_array_unref(t->skipped);
	g_free(t);
}

char *
tnef_message_class(const guint8 *data, gsize len)
{
	g_autoptr(MdTnef) t = tnef_read(data, len);

	return t != NULL ? g_steal_pointer(&t->message_class) : NULL;
}

char *
tnef_part_class(GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *name = GMIME_IS_PART(part) ? g_mime_part_get_filename(GMIME_PART(part)) : NULL;
	GMimeDataWrapper *content;
	GMimeStream *mem;
	GByteArray *bytes;
	char *cls;

	if (!GMIME_IS_PART(part) || ct == NULL ||
	    !(g_mime_content_type_is_type(ct, "application", "ms-tnef") ||
	      g_mime_content_type_is_type(ct, "application", "vnd.ms-tnef") ||
	      (name != NULL && g_ascii_strcasecmp(name, "winmail.dat") == 0)))
		return NULL;
	content = g_mime_part_get_content(GMIME_PART(part));
	if (content == NULL)
		return NULL;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	cls = tnef_message_class(bytes->data, bytes->len);
	g_object_unref(mem);
	return cls;
}

gboolean
tnef_class_is_report(const char *message_class)
{
	return message_class != NULL && g_ascii_strncasecmp(message_class, "REPORT.", 7) == 0;
}
