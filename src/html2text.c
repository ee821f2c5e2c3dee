/*
 * html2text.c - readable plain text from an HTML body.
 *
 * Used by parse.c when a message has no usable text/plain part, and by
 * anything that wants the text of an HTML part.  The HTML is parsed by
 * libxml2's forgiving HTML parser (never by regexes) and the resulting tree
 * walked without recursion, so hostile nesting cannot exhaust the stack.
 *
 * Rules:
 *  - whitespace in normal flow collapses to one space; <pre> keeps it;
 *  - <br> is a newline; block elements (div, tr, li, ...) start a new line,
 *    paragraph-like ones (p, h1-h6, pre, blockquote, table, ul, ol, ...)
 *    are separated by a blank line;
 *  - list items start with "- " (indented two spaces per nesting level);
 *  - lines inside <blockquote> are prefixed with "> " per level, as a mail
 *    client quotes, so quote stripping sees them as quoted;
 *  - a link becomes "text <href>" when the href is http(s) or mailto and
 *    says more than the text does;
 *  - script, style, head, title and similar are dropped; comments too;
 *  - trailing blanks on a line go, 3+ newlines become 2, the whole is
 *    trimmed.
 *
 * Pure: no I/O, never logs; the one global is the libxml2 loaded below.
 * The output is always valid UTF-8.
 *
 * libxml2 is loaded with dlopen() on the first HTML body, not linked:
 * with ICU and libstdc++ behind it, it is 1.8 MB of resident pages in
 * every process that maps it, and a delivery starts a process per
 * message while most mail has a text part and never needs it.
 */
#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html2text.h"

/* the four calls we make, resolved once; xmlFree is a variable in libxml2 */
typedef struct {
	htmlDocPtr (*read_memory)(const char *buffer, int size, const char *url,
	                          const char *encoding, int options);
	xmlChar *(*get_prop)(const xmlNode *node, const xmlChar *name);
	void (*free_doc)(xmlDocPtr doc);
	xmlFreeFunc *free_fn;
} LibXml;

static LibXml libxml;
static char *libxml_error;

/* dlopen and dlsym, once per process; on failure libxml_error says why */
static void
libxml_load_once(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		/* lazy, as a linked library binds: binding all of ICU's and
		 * libstdc++'s calls at once costs 0.2 MB more */
		void *h = dlopen(MD_LIBXML_SONAME, RTLD_LAZY | RTLD_LOCAL);
		void (*init_parser)(void) = NULL;

		if (h == NULL) {
			libxml_error = g_strdup(dlerror());
		} else {
			*(void **)&libxml.read_memory = dlsym(h, "htmlReadMemory");
			*(void **)&libxml.get_prop = dlsym(h, "xmlGetProp");
			*(void **)&libxml.free_doc = dlsym(h, "xmlFreeDoc");
			libxml.free_fn = dlsym(h, "xmlFree");
			*(void **)&init_parser = dlsym(h, "xmlInitParser");
			if (libxml.read_memory == NULL || libxml.get_prop == NULL || libxml.free_doc == NULL ||
			    libxml.free_fn == NULL || init_parser == NULL) {
				libxml_error = g_strdup_printf("%s: a symbol is missing", MD_LIBXML_SONAME);
				memset(&libxml, 0, sizeof libxml);
			} else {
				/* its first call is not thread-safe: make it here,
				 * under the once, before any thread parses */
				init_parser();
			}
		}
		g_once_init_leave(&done, 1);
	}
}

gboolean
html2text_load(char **error_r)
{
	libxml_load_once();
	if (libxml_error != NULL) {
		*error_r = g_strdup(libxml_error);
		return FALSE;
	}
	*error_r = NULL;
	return TRUE;
}

typedef enum {
	EL_INLINE = 0,
	EL_DROP,      /* skip element and its content */
	EL_LINE,      /* starts and ends on its own line */
	EL_PARAGRAPH, /* separated by a blank line */
	EL_BR,
	EL_LI,
	EL_LIST, /* ul, ol, dl: paragraph that nests list items */
	EL_PRE,
	EL_BLOCKQUOTE,
	EL_CELL,
	EL_A,
} ElementKind;

static const struct {
	const char *name;
	ElementKind kind;
} element_kinds[] = {
	{ "script", EL_DROP },      { "style", EL_DROP },      { "head", EL_DROP },
	{ "title", EL_DROP },       { "noscript", EL_DROP },   { "template", EL_DROP },
	{ "object", EL_DROP },      { "iframe", EL_DROP },     { "svg", EL_DROP },
	{ "xml", EL_DROP },         { "select", EL_DROP },
	{ "br", EL_BR },
	{ "p", EL_PARAGRAPH },      { "h1", EL_PARAGRAPH },    { "h2", EL_PARAGRAPH },
	{ "h3", EL_PARAGRAPH },     { "h4", EL_PARAGRAPH },    { "h5", EL_PARAGRAPH },
	{ "h6", EL_PARAGRAPH },     { "table", EL_PARAGRAPH }, { "hr", EL_PARAGRAPH },
	{ "ul", EL_LIST },          { "ol", EL_LIST },         { "dl", EL_LIST },
	{ "menu", EL_LIST },        { "dir", EL_LIST },
	{ "pre", EL_PRE },          { "xmp", EL_PRE },         { "listing", EL_PRE },
	{ "plaintext", EL_PRE },
	{ "blockquote", EL_BLOCKQUOTE },
	{ "li", EL_LI },
	{ "div", EL_LINE },         { "tr", EL_LINE },         { "dt", EL_LINE },
	{ "dd", EL_LINE },          { "address", EL_LINE },    { "article", EL_LINE },
	{ "aside", EL_LINE },       { "caption", EL_LINE },    { "center", EL_LINE },
	{ "details", EL_LINE },     { "fieldset", EL_LINE },   { "figcaption", EL_LINE },
	{ "figure", EL_LINE },      { "footer", EL_LINE },     { "form", EL_LINE },
	{ "header", EL_LINE },      { "legend", EL_LINE },     { "main", EL_LINE },
	{ "nav", EL_LINE },         { "section", EL_LINE },    { "summary", EL_LINE },
	{ "tbody", EL_LINE },       { "thead", EL_LINE },      { "tfoot", EL_LINE },
	{ "body", EL_LINE },        { "html", EL_LINE },
	{ "td", EL_CELL },          { "th", EL_CELL },
	{ "a", EL_A },
};

typedef struct {
	GString *out;
	guint pending_newlines; /* newlines owed before the next text */
	gboolean pending_space;
	const char *pending_prefix; /* list marker owed before the next text */
	guint pre_depth;
	guint quote_depth;
	guint list_depth;
	/* the link being read: no nesting (HTML forbids it; libxml2 closes) */
	const xmlNode *link;
	char *link_href;
	gsize link_start;
	gboolean link_started; /* link_start is set: the link showed text */
} Converter;

static ElementKind
element_kind(const xmlNode *node)
{
	const char *name = (const char *)node->name;

	if (name == NULL)
		return EL_INLINE;
	for (gsize i = 0; i < G_N_ELEMENTS(element_kinds); i++)
		if (g_ascii_strcasecmp(name, element_kinds[i].name) == 0)
			return element_kinds[i].kind;
	return EL_INLINE;
}

static gboolean
at_line_start(const Converter *c)
{
	return c->out->len == 0 || c->out->str[c->out->len - 1] == '\n';
}

static guint
trailing_newlines(const Converter *c)
{
	guint n = 0;
	gsize i = c->out->len;

	while (i > 0 && c->out->str[i - 1] == '\n') {
		n++;
		i--;
	}
	return n;
}

static void
request_newlines(Converter *c, guint n)
{
	c->pending_newlines = MAX(c->pending_newlines, n);
	c->pending_space = FALSE;
}

static void
put_quote_prefix(Converter *c)
{
	for (guint i = 0; i < c->quote_depth; i++)
		g_string_append(c->out, "> ");
}

/* Writes the newlines owed by the blocks closed or opened since the last
 * text; nothing at the very start of the output. */
static void
settle_newlines(Converter *c)
{
	if (c->pending_newlines > 0 && c->out->len > 0) {
		guint have = trailing_newlines(c);

		while (have < c->pending_newlines) {
			g_string_append_c(c->out, '\n');
			have++;
		}
		c->pending_space = FALSE;
	}
	c->pending_newlines = 0;
}

/* Settles owed newlines, quote marker, list marker and space before
 * visible text. */
static void
flush_pending(Converter *c)
{
	settle_newlines(c);
	if (at_line_start(c)) {
		put_quote_prefix(c);
		c->pending_space = FALSE;
	}
	if (c->pending_prefix != NULL) {
		for (guint i = 1; i < c->list_depth; i++)
			g_string_append(c->out, "  ");
		g_string_append(c->out, c->pending_prefix);
		c->pending_prefix = NULL;
		c->pending_space = FALSE;
	}
	if (c->pending_space) {
		char last = c->out->len > 0 ? c->out->str[c->out->len - 1] : '\n';

		if (last != ' ' && last != '\n')
			g_string_append_c(c->out, ' ');
		c->pending_space = FALSE;
	}
	/* a link's text starts here, after any marker written above */
	if (c->link != NULL && !c->link_started) {
		c->link_start = c->out->len;
		c->link_started = TRUE;
	}
}

/* A hard line break: <br>, or a newline inside <pre>. */
static void
line_break(Converter *c)
{
	settle_newlines(c);
	if (at_line_start(c) && c->out->len > 0)
		put_quote_prefix(c);
	g_string_append_c(c->out, '\n');
	c->pending_space = FALSE;
}

/* U+00A0 (no-break space) counts as whitespace: mail editors fill empty
 * paragraphs with it. */
static gboolean
is_space_at(const char *p, gsize *len_r)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') {
		*len_r = 1;
		return TRUE;
	}
	if ((guchar)p[0] == 0xc2 && (guchar)p[1] == 0xa0) {
		*len_r = 2;
		return TRUE;
	}
	return FALSE;
}

static void
emit_flow_text(Converter *c, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		gsize n;
		const char *word = p;

		if (is_space_at(p, &n)) {
			c->pending_space = TRUE;
			p += n;
			continue;
		}
		while (*p != '\0' && !is_space_at(p, &n))
			p++;
		flush_pending(c);
		g_string_append_len(c->out, word, p - word);
	}
}

static void
emit_pre_text(Converter *c, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\r' || *p == '\n') {
			line_break(c);
			continue;
		}
		flush_pending(c);
		if ((guchar)p[0] == 0xc2 && (guchar)p[1] == 0xa0) {
			g_string_append_c(c->out, ' ');
			p++;
			continue;
		}
		g_string_append_c(c->out, *p);
	}
}

static gboolean
link_is_shown(const char *href)
{
	return g_ascii_strncasecmp(href, "http://", 7) == 0 ||
	       g_ascii_strncasecmp(href, "https://", 8) == 0 ||
	       g_ascii_strncasecmp(href, "mailto:", 7) == 0;
}

/* TRUE when the visible text already says what the href says. */
static gboolean
link_text_matches(const char *text, const char *href)
{
	static const char *const schemes[] = { "mailto:", "https://", "http://" };
	gsize tlen = strlen(text);
	gsize hlen;

	if (g_ascii_strcasecmp(text, href) == 0)
		return TRUE;
	for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++) {
		gsize slen = strlen(schemes[i]);

		if (g_ascii_strncasecmp(href, schemes[i], slen) == 0) {
			href += slen;
			break;
		}
	}
	if (g_ascii_strcasecmp(text, href) == 0)
		return TRUE;
	/* "example.com" for "http://example.com/" */
	hlen = strlen(href);
	if (hlen == tlen + 1 && href[hlen - 1] == '/' && g_ascii_strncasecmp(text, href, tlen) == 0)
		return TRUE;
	/* "http://example.com" for "http://example.com/" */
	if (tlen > 0 && text[tlen - 1] == '/' && hlen + 1 == tlen && g_ascii_strncasecmp(text, href, hlen) == 0)
		return TRUE;
	return FALSE;
}

static void
link_begin(Converter *c, const xmlNode *node)
{
	xmlChar *href;

	if (c->link != NULL)
		return;
	href = libxml.get_prop(node, (const xmlChar *)"href");
	if (href == NULL)
		return;
	c->link_href = g_strstrip(g_strdup((const char *)href));
	(*libxml.free_fn)(href);
	if (!link_is_shown(c->link_href)) {
		g_clear_pointer(&c->link_href, g_free);
		return;
	}
	c->link = node;
	c->link_started = FALSE;
}

static void
link_end(Converter *c)
{
	g_autofree char *text = NULL;
	g_autofree char *shown = NULL;

	if (c->link_started)
		text = g_strstrip(g_strndup(c->out->str + c->link_start, c->out->len - c->link_start));
	else
		text = g_strdup("");
	if (!link_text_matches(text, c->link_href)) {
		c->pending_space = TRUE;
		shown = g_strdup_printf("<%s>", c->link_href);
		/* an href has no business holding whitespace; keep it one word */
		g_strdelimit(shown, " \t\r\n\f\v", '_');
		emit_flow_text(c, shown);
	}
	c->link = NULL;
	g_clear_pointer(&c->link_href, g_free);
}

static gboolean
is_first_cell(const xmlNode *node)
{
	for (const xmlNode *n = node->prev; n != NULL; n = n->prev) {
		if (n->type == XML_ELEMENT_NODE && element_kind(n) == EL_CELL)
			return FALSE;
	}
	return TRUE;
}

/* Entering an element; returns FALSE when its content is to be skipped. */
static gboolean
element_enter(Converter *c, const xmlNode *node)
{
	switch (element_kind(node)) {
	case EL_DROP:
		return FALSE;
	case EL_BR:
		line_break(c);
		return FALSE;
	case EL_LINE:
		request_newlines(c, 1);
		break;
	case EL_PARAGRAPH:
		request_newlines(c, 2);
		break;
	case EL_LIST:
		request_newlines(c, c->list_depth > 0 ? 1 : 2);
		c->list_depth++;
		break;
	case EL_LI:
		request_newlines(c, 1);
		c->pending_prefix = "- ";
		break;
	case EL_PRE:
		request_newlines(c, 2);
		c->pre_depth++;
		break;
	case EL_BLOCKQUOTE:
		request_newlines(c, 2);
		c->quote_depth++;
		break;
	case EL_CELL:
		if (!is_first_cell(node))
			c->pending_space = TRUE;
		break;
	case EL_A:
		link_begin(c, node);
		break;
	case EL_INLINE:
		break;
	}
	return TRUE;
}

static void
element_leave(Converter *c, const xmlNode *node)
{
	switch (element_kind(node)) {
	case EL_LINE:
	case EL_LI:
		request_newlines(c, 1);
		c->pending_prefix = NULL;
		break;
	case EL_PARAGRAPH:
		request_newlines(c, 2);
		break;
	case EL_LIST:
		if (c->list_depth > 0)
			c->list_depth--;
		request_newlines(c, c->list_depth > 0 ? 1 : 2);
		break;
	case EL_PRE:
		if (c->pre_depth > 0)
			c->pre_depth--;
		request_newlines(c, 2);
		break;
	case EL_BLOCKQUOTE:
		/* the blank line after a quote is not quoted */
		if (!at_line_start(c))
			g_string_append_c(c->out, '\n');
		if (c->quote_depth > 0)
			c->quote_depth--;
		request_newlines(c, 2);
		break;
	case EL_A:
		if (c->link == node)
			link_end(c);
		break;
	default:
		break;
	}
}

static void
text_node(Converter *c, const xmlNode *node)
{
	if (node->content == NULL)
		return;
	if (c->pre_depth > 0)
		emit_pre_text(c, (const char *)node->content);
	else
		emit_flow_text(c, (const char *)node->content);
}

/* Depth-first walk over the tree by parent/sibling links: no recursion. */
static void
walk(Converter *c, const xmlNode *root)
{
	const xmlNode *node = root;

	while (node != NULL) {
		gboolean descend = FALSE;

		switch (node->type) {
		case XML_ELEMENT_NODE:
			descend = element_enter(c, node);
			break;
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			text_node(c, node);
			break;
		default:
			break;
		}

		if (descend && node->children != NULL) {
			node = node->children;
			continue;
		}
		if (descend && node->type == XML_ELEMENT_NODE)
			element_leave(c, node);

		/* climb until a next sibling, leaving elements on the way */
		while (node != NULL && node != root && node->next == NULL) {
			node = node->parent;
			if (node != NULL && node->type == XML_ELEMENT_NODE)
				element_leave(c, node);
		}
		if (node == NULL || node == root)
			break;
		node = node->next;
	}
}

/* Drops blanks before newlines, turns 3+ newlines into 2, trims. */
static char *
tidy(const GString *in)
{
	GString *out = g_string_sized_new(in->len);
	guint newlines = 0;
	gsize start = 0, end;
	char *result;

	for (gsize i = 0; i < in->len; i++) {
		char ch = in->str[i];

		if (ch == '\n') {
			while (out->len > 0 && (out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\t'))
				g_string_truncate(out, out->len - 1);
			if (++newlines <= 2)
				g_string_append_c(out, '\n');
			continue;
		}
		/* blanks may yet turn out to end a blank line */
		if (ch != ' ' && ch != '\t')
			newlines = 0;
		g_string_append_c(out, ch);
	}

	while (start < out->len && g_ascii_isspace(out->str[start]))
		start++;
	end = out->len;
	while (end > start && g_ascii_isspace(out->str[end - 1]))
		end--;
	result = g_strndup(out->str + start, end - start);
	g_string_free(out, TRUE);
	return result;
}

char *
html_to_text(const char *html, gsize len)
{
	g_autofree char *valid = NULL;
	Converter c = { 0 };
	htmlDocPtr doc;
	char *text;

	if (html == NULL || len == 0)
		return g_strdup("");
	/* libxml2 takes an int length; nobody sends 2 GB of HTML in earnest */
	if (len > (gsize)G_MAXINT / 2)
		len = (gsize)G_MAXINT / 2;
	/* libxml2 falls back to Latin-1 on bad UTF-8 (and NULs): never let it
	 * guess */
	if (!g_utf8_validate(html, (gssize)len, NULL)) {
		valid = g_utf8_make_valid(html, (gssize)len);
		html = valid;
		len = strlen(valid);
		if (len > (gsize)G_MAXINT / 2)
			len = (gsize)G_MAXINT / 2;
	}

	libxml_load_once();
	/* a broken installation, not a property of the message: die as a
	 * missing library would have at start (Postfix defers a delivery
	 * killed by a signal) */
	if (libxml_error != NULL)
		g_error("cannot load libxml2: %s", libxml_error);
	doc = libxml.read_memory(html, (int)len, NULL, "UTF-8",
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				     HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
	if (doc == NULL)
		return g_strdup("");

	c.out = g_string_sized_new(len / 2 + 16);
	for (xmlNodePtr top = doc->children; top != NULL; top = top->next)
		walk(&c, top);
	if (c.link != NULL)
		link_end(&c);
	libxml.free_doc(doc);

	text = tidy(c.out);
	g_string_free(c.out, TRUE);
	g_free(c.link_href);
	if (!g_utf8_validate(text, -1, NULL)) {
		char *fixed = g_utf8_make_valid(text, -1);

		g_free(text);
		text = fixed;
	}
	return text;
}
