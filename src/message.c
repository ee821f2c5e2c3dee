/*
 * message.c - constructors and destructors of MdMessage and its parts.
 */
#include "config.h"

#include "message.h"

MdMessage *
md_message_new(void)
{
	MdMessage *msg = g_new0(MdMessage, 1);

	msg->references = g_ptr_array_new_with_free_func(g_free);
	msg->to = g_ptr_array_new_with_free_func((GDestroyNotify)md_address_free);
	msg->cc = g_ptr_array_new_with_free_func((GDestroyNotify)md_address_free);
	msg->attachments = g_ptr_array_new_with_free_func((GDestroyNotify)md_attachment_free);
	msg->failed_recipients = g_ptr_array_new_with_free_func(g_free);
	msg->text = g_strdup("");
	return msg;
}

void
md_message_free(MdMessage *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->message_id);
	g_free(msg->in_reply_to);
	g_ptr_array_unref(msg->references);
	md_address_free(msg->from);
	md_address_free(msg->reply_to);
	g_ptr_array_unref(msg->to);
	g_ptr_array_unref(msg->cc);
	g_free(msg->from_header);
	g_free(msg->to_header);
	g_free(msg->cc_header);
	g_free(msg->subject);
	g_free(msg->content_type);
	g_free(msg->body_charset);
	g_free(msg->text);
	g_free(msg->html);
	g_ptr_array_unref(msg->attachments);
	g_ptr_array_unref(msg->failed_recipients);
	g_free(msg->auto_submitted);
	g_free(msg->precedence);
	g_free(msg->list_id);
	g_free(msg->report_type);
	g_free(msg->tnef_class);
	g_free(msg->content_language);
	g_free(msg->auto_response_suppress);
	g_free(msg->return_path);
	g_free(msg->auth_results);
	g_free(msg->parse_error);
	g_free(msg);
}

MdAddress *
md_address_new(const char *name, const char *addr)
{
	MdAddress *a = g_new0(MdAddress, 1);

	a->name = g_strdup(name);
	a->addr = g_strdup(addr);
	return a;
}

void
md_address_free(MdAddress *a)
{
	if (a == NULL)
		return;
	g_free(a->name);
	g_free(a->addr);
	g_free(a);
}

MdAttachment *
md_attachment_new(void)
{
	return g_new0(MdAttachment, 1);
}

void
md_attachment_free(MdAttachment *att)
{
	if (att == NULL)
		return;
	g_free(att->filename);
	g_free(att->content_type);
	g_free(att->disposition);
	if (att->entity != NULL)
		g_bytes_unref(att->entity);
	g_free(att);
}
