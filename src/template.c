/*
 * template.c - a small mustache-like renderer for templates/LANG/NAME.
 *
 * Stage "outbox": intake and tick build a JSON context (ticket, customer,
 * support, ...) and render a template with it; compose.c turns the result
 * into a message.  The file is split into its header lines, text body and
 * HTML body BEFORE anything is expanded, and each part is parsed into a
 * small tree and rendered with the escaping of its destination.  Values are
 * only ever appended to the output, never parsed, so a value that looks
 * like "{{ticket.id}}" or "%%html" or "\r\nBcc: x" stays inert text.
 *
 * Must never: expand text that came from a value, emit a control
 * character into a header, or let a value break out of HTML text.
 */
#include "config.h"

#include <string.h>

#include "filecache.h"
#include "template.h"

#define TEMPLATE_MAX_BYTES (1024 * 1024) /* a template file, not a value */
#define TEMPLATE_MAX_DEPTH 32            /* nested sections */

typedef enum {
	ESC_HEADER,
	ESC_TEXT,
	ESC_HTML,
} Escape;

typedef enum {
	NODE_TEXT,
	NODE_VAR,
	NODE_SECTION,
	NODE_INVERTED,
} NodeKind;

typedef struct {
	NodeKind kind;
	char *str;           /* literal text, or the variable/section name */
	int line;            /* where the tag opened, for errors */
	GPtrArray *children; /* Node*, sections only */
} Node;

static void
node_free(Node *n)
{
	if (n == NULL)
		return;
	g_free(n->str);
	if (n->children != NULL)
		g_ptr_array_unref(n->children);
	g_free(n);
}

static GPtrArray *
node_list_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
}

static Node *
node_add(GPtrArray *list, NodeKind kind, const char *str, gsize len, int line)
{
	Node *n = g_new0(Node, 1);

	n->kind = kind;
	n->str = g_strndup(str, len);
	n->line = line;
	if (kind == NODE_SECTION || kind == NODE_INVERTED)
		n->children = node_list_new();
	g_ptr_array_add(list, n);
	return n;
}

void
md_rendered_free(MdRendered *r)
{
	if (r == NULL)
		return;
	if (r->headers != NULL)
		g_ptr_array_unref(r->headers);
	g_free(r->text);
	g_free(r->html);
	g_free(r->language);
	g_free(r);
}

static void
md_header_free(MdHeader *h)
{
	if (h == NULL)
		return;
	g_free(h->name);
	g_free(h->value);
	g_free(h);
}

const char *
md_rendered_header(const MdRendered *r, const char *name)
{
	if (r == NULL || r->headers == NULL || name == NULL)
		return NULL;
	for (guint i = 0; i < r->headers->len; i++) {
		const MdHeader *h = g_ptr_array_index(r->headers, i);

		if (g_ascii_strcasecmp(h->name, name) == 0)
			return h->value;
	}
	return NULL;
}

/* ---- escaping ---- */

static gboolean
is_control(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

static void
escape_append(GString *out, const char *value, Escape esc)
{
	g_autofree char *valid = g_utf8_make_valid(value, -1);
	gboolean last_was_gap = FALSE;

	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (esc == ESC_HEADER) {
			/* A run of CR, LF, TAB or other controls becomes one
			 * space: the value stays on its header line. */
			if (is_control(c)) {
				if (!last_was_gap)
					g_string_append_c(out, ' ');
				last_was_gap = TRUE;
				continue;
			}
			last_was_gap = FALSE;
		} else if (is_control(c) && c != '\n' && c != '\t') {
			continue;
		}
		if (esc == ESC_HTML) {
			switch (c) {
			case '&': g_string_append(out, "&amp;"); continue;
			case '<': g_string_append(out, "&lt;"); continue;
			case '>': g_string_append(out, "&gt;"); continue;
			case '"': g_string_append(out, "&quot;"); continue;
			case '\'': g_string_append(out, "&#39;"); continue;
			default: break;
			}
		}
		g_string_append_len(out, p, g_utf8_next_char(p) - p);
	}
}

char *
template_header_escape(const char *value)
{
	GString *out = g_string_new(NULL);

	if (value != NULL)
		escape_append(out, value, ESC_HEADER);
	return g_string_free(out, FALSE);
}

/* ---- parsing ---- */

typedef struct {
	const char *origin;
	char *error; /* first error, "origin:line: what" */
} Parser;

static void G_GNUC_PRINTF(3, 4)
parse_error(Parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	if (ps->error != NULL)
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ps->error = g_strdup_printf("%s:%d: %s", ps->origin, line, what);
}

/* "." or dot-separated words of [A-Za-z0-9_-]. */
static gboolean
name_valid(const char *name)
{
	gboolean want_word = TRUE;

	if (strcmp(name, ".") == 0)
		return TRUE;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (want_word)
				return FALSE;
			want_word = TRUE;
		} else if (g_ascii_isalnum(*p) || *p == '_' || *p == '-') {
			want_word = FALSE;
		} else {
			return FALSE;
		}
	}
	return !want_word;
}

static int
count_lines(const char *p, const char *end)
{
	int n = 0;

	for (; p < end; p++)
		if (*p == '\n')
			n++;
	return n;
}

/*
 * Parses text (one part of a template, starting at first_line) into a
 * list of nodes.  Section tags alone on their line take the whole line
 * with them, as in mustache, so templates can put them on lines of their
 * own without leaving blank lines behind.  Returns NULL on error.
 */
static GPtrArray *
parse_part(Parser *ps, const char *text, int first_line)
{
	GPtrArray *root = node_list_new();
	GPtrArray *open = g_ptr_array_new(); /* Node* of open sections */
	GPtrArray *cur = root;
	const char *p = text;
	int line = first_line;

	while (*p != '\0') {
		const char *tag = strstr(p, "{{");
		const char *end, *in, *in_end, *line_start, *after;
		char sigil;
		int tag_line;
		g_autofree char *name = NULL;

		if (tag == NULL) {
			node_add(cur, NODE_TEXT, p, strlen(p), line);
			break;
		}
		tag_line = line + count_lines(p, tag);
		if (tag[2] == '{') {
			parse_error(ps, tag_line, "\"{{{\" is not supported: values are always escaped");
			goto fail;
		}
		end = strstr(tag + 2, "}}");
		if (end == NULL || memchr(tag + 2, '\n', end - (tag + 2)) != NULL) {
			parse_error(ps, tag_line, "\"{{\" without \"}}\" on the same line");
			goto fail;
		}
		in = tag + 2;
		in_end = end;
		sigil = *in;
		if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!')
			in++;
		else
			sigil = '\0';
		while (in < in_end && g_ascii_isspace(*in))
			in++;
		while (in_end > in && g_ascii_isspace(in_end[-1]))
			in_end--;
		name = g_strndup(in, in_end - in);
		after = end + 2;

		if (sigil != '!' && !name_valid(name)) {
			parse_error(ps, tag_line, "bad name \"%s\" in \"{{...}}\"", name);
			goto fail;
		}

		/* Standalone section/comment tag: only blanks around it on
		 * its line, and no other tag earlier on that line. */
		line_start = tag;
		while (line_start > p && (line_start[-1] == ' ' || line_start[-1] == '\t'))
			line_start--;
		if (sigil != '\0' && (line_start == text || line_start[-1] == '\n')) {
			const char *q = after;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '\n' || *q == '\0') {
				after = *q == '\n' ? q + 1 : q;
				tag = line_start;
			}
		}
		if (tag > p)
			node_add(cur, NODE_TEXT, p, tag - p, line);
		line = tag_line + count_lines(end, after);

		switch (sigil) {
		case '!':
			break;
		case '#':
		case '^': {
			Node *n;

			if (open->len >= TEMPLATE_MAX_DEPTH) {
				parse_error(ps, tag_line, "sections nested deeper than %d",
				            TEMPLATE_MAX_DEPTH);
				goto fail;
			}
			n = node_add(cur, sigil == '#' ? NODE_SECTION : NODE_INVERTED, name,
			             strlen(name), tag_line);
			g_ptr_array_add(open, n);
			cur = n->children;
			break;
		}
		case '/': {
			Node *n = open->len > 0 ? g_ptr_array_index(open, open->len - 1) : NULL;

			if (n == NULL) {
				parse_error(ps, tag_line, "\"{{/%s}}\" closes no open section", name);
				goto fail;
			}
			if (strcmp(n->str, name) != 0) {
				parse_error(ps, tag_line,
				            "\"{{/%s}}\" does not match \"{{#%s}}\" opened at line %d",
				            name, n->str, n->line);
				goto fail;
			}
			g_ptr_array_remove_index(open, open->len - 1);
			if (open->len > 0) {
				Node *parent = g_ptr_array_index(open, open->len - 1);

				cur = parent->children;
			} else {
				cur = root;
			}
			break;
		}
		default:
			node_add(cur, NODE_VAR, name, strlen(name), tag_line);
			break;
		}
		p = after;
	}

	if (open->len > 0) {
		Node *n = g_ptr_array_index(open, open->len - 1);

		parse_error(ps, n->line, "section \"%s\" is never closed", n->str);
		goto fail;
	}
	g_ptr_array_unref(open);
	return root;

fail:
	g_ptr_array_unref(open);
	g_ptr_array_unref(root);
	return NULL;
}

/* ---- rendering ---- */

/*
 * Mustache lookup: the first name of a path is searched from the innermost
 * context outwards; the rest of the path descends from there.
 */
static JsonNode *
lookup(GPtrArray *stack, const char *name)
{
	g_auto(GStrv) parts = NULL;
	JsonNode *node = NULL;

	if (strcmp(name, ".") == 0)
		return g_ptr_array_index(stack, stack->len - 1);
	parts = g_strsplit(name, ".", -1);
	for (guint i = stack->len; i > 0; i--) {
		JsonNode *ctx = g_ptr_array_index(stack, i - 1);

		if (JSON_NODE_HOLDS_OBJECT(ctx) &&
		    json_object_has_member(json_node_get_object(ctx), parts[0])) {
			node = json_object_get_member(json_node_get_object(ctx), parts[0]);
			break;
		}
	}
	for (guint i = 1; node != NULL && parts[i] != NULL; i++) {
		if (!JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		node = json_object_get_member(json_node_get_object(node), parts[i]);
	}
	return node;
}

static gboolean
truthy(JsonNode *node)
{
	if (node == NULL)
		return FALSE;
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_NULL:
		return FALSE;
	case JSON_NODE_ARRAY:
		return json_array_get_length(json_node_get_array(node)) > 0;
	case JSON_NODE_OBJECT:
		return TRUE;
	case JSON_NODE_VALUE:
		break;
	}
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING: {
		const char *s = json_node_get_string(node);

		return s != NULL && *s != '\0';
	}
	case G_TYPE_BOOLEAN:
		return json_node_get_boolean(node);
	case G_TYPE_INT64:
		return json_node_get_int(node) != 0;
	case G_TYPE_DOUBLE:
		return json_node_get_double(node) != 0.0;
	default:
		return FALSE;
	}
}

/* Scalar as text; objects, arrays and null render as nothing. */
static char *
scalar_string(JsonNode *node)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return g_strdup("");
	switch (json_node_get_value_type(node)) {
	case G_TYPE_STRING:
		return g_strdup(json_node_get_string(node) != NULL ? json_node_get_string(node) : "");
	case G_TYPE_BOOLEAN:
		return g_strdup(json_node_get_boolean(node) ? "true" : "false");
	case G_TYPE_INT64:
		return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
	case G_TYPE_DOUBLE:
		return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.15g", json_node_get_double(node)));
	default:
		return g_strdup("");
	}
}

static void
render_nodes(GPtrArray *nodes, GPtrArray *stack, Escape esc, GString *out)
{
	for (guint i = 0; i < nodes->len; i++) {
		Node *n = g_ptr_array_index(nodes, i);
		JsonNode *v;

		switch (n->kind) {
		case NODE_TEXT:
			g_string_append(out, n->str);
			break;
		case NODE_VAR: {
			g_autofree char *s = scalar_string(lookup(stack, n->str));

			escape_append(out, s, esc);
			break;
		}
		case NODE_SECTION:
			v = lookup(stack, n->str);
			if (v != NULL && JSON_NODE_HOLDS_ARRAY(v)) {
				JsonArray *a = json_node_get_array(v);

				for (guint j = 0; j < json_array_get_length(a); j++) {
					g_ptr_array_add(stack, json_array_get_element(a, j));
					render_nodes(n->children, stack, esc, out);
					g_ptr_array_remove_index(stack, stack->len - 1);
				}
			} else if (truthy(v)) {
				g_ptr_array_add(stack, v);
				render_nodes(n->children, stack, esc, out);
				g_ptr_array_remove_index(stack, stack->len - 1);
			}
			break;
		case NODE_INVERTED:
			if (!truthy(lookup(stack, n->str)))
				render_nodes(n->children, stack, esc, out);
			break;
		}
	}
}

static char *
render_part(GPtrArray *nodes, GPtrArray *stack, Escape esc)
{
	GString *out = g_string_new(NULL);

	render_nodes(nodes, stack, esc, out);
	return g_string_free(out, FALSE);
}

gboolean
template_header_name_valid(const char *name)
{
	if (name == NULL || *name == '\0' || strlen(name) > 76)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return FALSE;
	return TRUE;
}

static gboolean
is_blank(const char *line)
{
	for (; *line != '\0'; line++)
		if (*line != ' ' && *line != '\t')
			return FALSE;
	return TRUE;
}

static gboolean
is_html_marker(const char *line)
{
	return strncmp(line, "%%html", 6) == 0 && is_blank(line + 6);
}

/* ---- a template parsed once, rendered many times ---- */

typedef struct {
	char *name;
	GPtrArray *nodes;
} HeaderNodes;

typedef struct {
	GPtrArray *headers; /* HeaderNodes*, in template order */
	GPtrArray *text;    /* Node* */
	GPtrArray *html;    /* Node*, NULL when there is no HTML part */
} Compiled;

static void
header_nodes_free(HeaderNodes *h)
{
	g_free(h->name);
	g_ptr_array_unref(h->nodes);
	g_free(h);
}

static void
compiled_clear(Compiled *c)
{
	if (c->headers != NULL)
		g_ptr_array_unref(c->headers);
	if (c->text != NULL)
		g_ptr_array_unref(c->text);
	if (c->html != NULL)
		g_ptr_array_unref(c->html);
}

static void
compiled_unref(gpointer c)
{
	g_atomic_rc_box_release_full(c, (GDestroyNotify)compiled_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Compiled, compiled_unref)

/* Splits text into headers, text and HTML and parses each; NULL and
 * *error_r ("origin:line: what") at the first syntax error. */
static Compiled *
compile(const char *text, const char *origin, char **error_r)
{
	Parser ps = { .origin = origin != NULL ? origin : "template", .error = NULL };
	g_autoptr(Compiled) c = g_atomic_rc_box_new0(Compiled);
	g_autoptr(GString) norm = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GString) body = g_string_new(NULL);
	guint i = 0, body_line;

	*error_r = NULL;
	if (!g_utf8_validate(text, -1, NULL)) {
		*error_r = g_strdup_printf("%s: not valid UTF-8", ps.origin);
		return NULL;
	}
	/* Templates edited on Windows: CRLF counts as one line end. */
	norm = g_string_new(text);
	for (gsize k = 0; k < norm->len;) {
		if (norm->str[k] == '\r' && norm->str[k + 1] == '\n')
			g_string_erase(norm, k, 1);
		else
			k++;
	}
	lines = g_strsplit(norm->str, "\n", -1);
	c->headers = g_ptr_array_new_with_free_func((GDestroyNotify)header_nodes_free);

	for (; lines[i] != NULL && !is_blank(lines[i]); i++) {
		const char *colon = strchr(lines[i], ':');
		g_autofree char *name = NULL;
		GPtrArray *nodes;
		HeaderNodes *h;

		name = colon != NULL ? g_strndup(lines[i], colon - lines[i]) : NULL;
		if (name == NULL || !template_header_name_valid(name)) {
			parse_error(&ps, (int)i + 1,
			            "expected a \"Name: value\" header line (or a blank line "
			            "before the body)");
			break;
		}
		nodes = parse_part(&ps, colon + 1, (int)i + 1);
		if (nodes == NULL)
			break;
		h = g_new0(HeaderNodes, 1);
		h->name = g_steal_pointer(&name);
		h->nodes = nodes;
		g_ptr_array_add(c->headers, h);
	}
	if (ps.error != NULL) {
		*error_r = ps.error;
		return NULL;
	}
	if (lines[i] != NULL)
		i++; /* the blank line */

	body_line = i + 1;
	for (; lines[i] != NULL && !is_html_marker(lines[i]); i++) {
		g_string_append(body, lines[i]);
		if (lines[i + 1] != NULL)
			g_string_append_c(body, '\n');
	}
	c->text = parse_part(&ps, body->str, (int)body_line);
	if (c->text == NULL) {
		*error_r = ps.error;
		return NULL;
	}
	if (lines[i] != NULL) {
		g_autofree char *html = g_strjoinv("\n", lines + i + 1);

		c->html = parse_part(&ps, html, (int)i + 2);
		if (c->html == NULL) {
			*error_r = ps.error;
			return NULL;
		}
	}
	return g_steal_pointer(&c);
}

static MdRendered *
render_compiled(const Compiled *c, JsonObject *context)
{
	MdRendered *r = g_new0(MdRendered, 1);
	g_autoptr(JsonObject) empty = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GPtrArray) stack = g_ptr_array_new();

	if (context == NULL)
		context = empty = json_object_new();
	root = json_node_init_object(json_node_alloc(), context);
	g_ptr_array_add(stack, root);

	r->headers = g_ptr_array_new_with_free_func((GDestroyNotify)md_header_free);
	for (guint i = 0; i < c->headers->len; i++) {
		const HeaderNodes *hn = g_ptr_array_index(c->headers, i);
		g_autofree char *value = render_part(hn->nodes, stack, ESC_HEADER);
		MdHeader *h = g_new0(MdHeader, 1);

		h->name = g_strdup(hn->name);
		/* the template's own text too: a lone CR in it would end the
		 * header line wherever the value goes */
		h->value = g_strstrip(template_header_escape(value));
		g_ptr_array_add(r->headers, h);
	}
	r->text = render_part(c->text, stack, ESC_TEXT);
	if (c->html != NULL)
		r->html = render_part(c->html, stack, ESC_HTML);
	return r;
}

MdRendered *
template_render_string(const char *text, const char *origin, JsonObject *context,
                       char **error_r)
{
	g_autoptr(Compiled) c = compile(text, origin, error_r);

	return c != NULL ? render_compiled(c, context) : NULL;
}

static GQuark
template_error_quark(void)
{
	return g_quark_from_static_string("md-template-error");
}

/* filecache's MdFileMake: a template file, checked and parsed. */
static gpointer
compile_file(const char *path, GBytes *contents, GError **error)
{
	gsize len;
	const char *data = g_bytes_get_data(contents, &len);
	g_autofree char *text = NULL;
	char *why = NULL;
	Compiled *c;

	if (len > 0 && memchr(data, '\0', len) != NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "not a text file");
		return NULL;
	}
	text = g_strndup(data != NULL ? data : "", len);
	c = compile(text, path, &why);
	if (c == NULL) {
		g_set_error_literal(error, template_error_quark(), 0, why);
		g_free(why);
	}
	return c;
}

static gboolean
lang_valid(const char *lang)
{
	gsize n = lang != NULL ? strlen(lang) : 0;

	if (n < 2 || n > 3)
		return FALSE;
	for (gsize k = 0; k < n; k++)
		if (lang[k] < 'a' || lang[k] > 'z')
			return FALSE;
	return TRUE;
}

/* A file name, never a path: no separators, no leading dot. */
static gboolean
template_name_valid(const char *name)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	return TRUE;
}

MdRendered *
template_render_file(const char *dir, const char *lang, const char *fallback_lang,
                     const char *name, JsonObject *context, char **error_r)
{
	const char *tries[] = { lang, fallback_lang, "en" };
	g_autofree char *first_path = NULL;

	*error_r = NULL;
	if (!template_name_valid(name)) {
		*error_r = g_strdup_printf("bad template name \"%s\"", name != NULL ? name : "");
		return NULL;
	}
	for (guint k = 0; k < G_N_ELEMENTS(tries); k++) {
		g_autofree char *path = NULL;
		g_autoptr(GError) err = NULL;
		g_autoptr(Compiled) c = NULL;
		MdRendered *r;

		if (!lang_valid(tries[k]))
			continue;
		path = g_build_filename(dir, tries[k], name, NULL);
		if (first_path == NULL)
			first_path = g_strdup(path);
		c = filecache_derived(path, TEMPLATE_MAX_BYTES, compile_file,
		                      g_atomic_rc_box_acquire, compiled_unref, &err);
		if (c == NULL) {
			if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				continue;
			if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_FAILED))
				*error_r = g_strdup_printf("%s: too large or not a text file", path);
			else if (err->domain == template_error_quark())
				*error_r = g_strdup(err->message);
			else
				*error_r = g_strdup_printf("%s: %s", path, err->message);
			return NULL;
		}
		r = render_compiled(c, context);
		if (r != NULL)
			r->language = g_strdup(tries[k]);
		return r;
	}
	*error_r = g_strdup_printf("%s: no such template (nor in the fallback languages)",
	                           first_path != NULL ? first_path : name);
	return NULL;
}
