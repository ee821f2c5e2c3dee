/*
 * quote.c - cutting the quoted history off a reply.
 *
 * A reply's text (the text/plain part, or the HTML part through
 * html2text.c, which prefixes <blockquote> lines with "> ") holds the
 * author's new words and, below them, what they replied to.  That history
 * may carry internal notes or the text of our agent notifications, so it
 * must never be passed on: when a line is doubtful we cut more, never less.
 *
 * The text is read line by line from the top; the first line that starts
 * the history (our marker, a quoted line, a signature, an attribution, an
 * Outlook header block or separator) decides the cut, and the cut then
 * moves up over whatever introduces that history (an attribution wrapped
 * over lines, a header block, a separator line).  Matching is done on
 * case-folded strings, not regexes, so that every line costs linear time
 * and the word lists stay readable.
 *
 * Pure: no I/O, no globals, never logs.
 */
#include "config.h"

#include <string.h>

#include "quote.h"

/* Beyond these, a line is text, not a header or an attribution. */
#define MAX_ATTRIBUTION_BYTES 1000
#define MAX_WRAPPED_LINE_BYTES 300
#define MAX_HEADER_KEY_BYTES 40
#define MAX_HEADER_LINES 30
#define MAX_SEPARATOR_TEXT_BYTES 120

typedef enum {
	HDR_NONE = 0,
	HDR_FROM,
	HDR_DATE,
	HDR_OTHER,
} HeaderKind;

/* The reply split into lines, with what is asked of each line many times. */
typedef struct {
	char *const *line;
	guint n;
	HeaderKind *hdr;
} Text;

/* Case-folded header names of the quoted-header blocks mail clients write. */
static const char *const from_keys[] = {
	"from", "von", "от", "no", "de", "da", "van", "från", "fra", "od", "від",
	"发件人", "寄件者", "差出人", "kimden", "lähettäjä", "afsender", "feladó",
	"odesílatel", "nuo", "saatja", "de la", "šalje", "από", "보낸 사람", NULL,
};
static const char *const date_keys[] = {
	"sent", "date", "gesendet", "datum", "отправлено", "дата", "nosūtīts", "datums",
	"envoyé", "inviato", "data", "enviado", "enviada", "fecha", "verzonden",
	"skickat", "sendt", "dato", "wysłano", "wysłane", "надіслано", "відправлено",
	"发送时间", "日期", "寄件日期", "送信日時", "gönderildi", "tarih", "lähetetty",
	"päivämäärä", "elküldve", "dátum", "odesláno", "odoslané", "išsiųsta", "saadetud",
	"trimis", "poslano", "στάλθηκε", "보낸 날짜", NULL,
};
static const char *const other_keys[] = {
	"to", "an", "кому", "kam", "à", "a", "para", "aan", "till", "til", "do",
	"收件人", "宛先", "subject", "betreff", "тема", "tēma", "objet", "oggetto",
	"asunto", "assunto", "onderwerp", "ämne", "emne", "temat", "主题", "主旨",
	"件名", "cc", "kopie", "копия", "копія", "kopija", "bcc", "reply-to",
	"antwort an", "importance", "wichtigkeit", "priority", "attachments",
	"anlagen", "вложения", "pielikumi", "către", "subiect", "prima", "predmet",
	"προς", "θέμα", "받는 사람", "제목", NULL,
};

/*
 * Case-folded verbs that end an attribution ("... wrote:"), in the
 * languages our customers and their mail clients use.
 */
static const char *const attribution_verbs[] = {
	"wrote", "writes", "a écrit", "escribió", "escribio", "ha scritto", "scrisse",
	"schrieb", "schreef", "geschreven", "skrev", "skriver", "napisał", "napisała",
	"napisał(a)", "napisal", "napisal(a)", "escreveu", "пишет", "написал",
	"написала", "написал(а)", "пише", "написав", "rakstīja", "rakstija", "pisze",
	"kirjoitti", "írta", "napsal", "napsala", "napsal(a)", "napísal", "yazdı",
	"a scris", "написа", "写道", "寫道", "のメッセージ", NULL,
};

/*
 * Verbs followed by the author's name or the date: "Am ... schrieb Max
 * <max@x>:", Lotus Notes' "John/ACME@ACME wrote on 05.01.2021 10:00:00:".
 */
static const char *const attribution_mid_verbs[] = {
	"schrieb", "schreef", "skrev", "skriver", "kirjoitti", "wrote on", NULL,
};

/* First words of an attribution line, so a wrapped one is taken whole. */
static const char *const attribution_openers[] = {
	"on", "am", "le", "el", "il", "op", "den", "på", "em", "dnia", "w", "в", "у",
	"在", "quoting", NULL,
};

/* Case-folded weekdays as Gmail abbreviates them before the date. */
static const char *const weekdays[] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday",
	"wednesday", "thursday", "friday", "saturday", "sunday", "пн", "вт", "ср",
	"чт", "пт", "сб", "вс", "нд", "pirmd.", "otrd.", "trešd.", "ceturtd.",
	"piektd.", "sestd.", "svētd.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam.",
	"dim.", "mo.", "di.", "mi.", "do.", "fr.", "sa.", "so.", NULL,
};

/* Case-folded texts between the dashes of "-----Original Message-----". */
static const char *const separator_phrases[] = {
	"original message", "forwarded message", "reply above", "above this line",
	"ursprüngliche nachricht", "original-nachricht", "weitergeleitete nachricht",
	"исходное сообщение", "пересылаемое сообщение", "пересланное сообщение",
	"оригинальное сообщение", "вихідне повідомлення", "оригінальне повідомлення",
	"переслане повідомлення", "sākotnējais ziņojums", "pārsūtītā ziņa",
	"pārsūtīts ziņojums", "message d'origine", "message original",
	"message transféré", "mensaje original", "mensaje reenviado",
	"messaggio originale", "messaggio inoltrato", "oorspronkelijk bericht",
	"origineel bericht", "doorgestuurd bericht", "ursprungligt meddelande",
	"originalmeddelande", "vidarebefordrat meddelande", "opprinnelig melding",
	"oprindelig meddelelse", "videresendt melding", "videresendt meddelelse",
	"wiadomość oryginalna", "oryginalna wiadomość", "wiadomość przekazana",
	"przekazana wiadomość", "mensagem original", "mensagem encaminhada",
	"původní zpráva", "přeposlaná zpráva", "alkuperäinen viesti",
	"välitetty viesti", "eredeti üzenet", "továbbított üzenet", "原始邮件",
	"转发的邮件", "原始郵件", NULL,
};

/* Lines (without their colon) that open a forwarded message. */
static const char *const forward_intros[] = {
	"begin forwarded message", "anfang der weitergeleiteten nachricht",
	"début du message réexpédié", "inizio messaggio inoltrato",
	"начало переадресованного сообщения", "mensaje reenviado", NULL,
};

/* Zero-width and byte-order marks come with HTML and count as space. */
static gboolean
is_space_char(gunichar c)
{
	return g_unichar_isspace(c) || c == 0x200B || c == 0xFEFF;
}

static const char *
skip_space(const char *p)
{
	while (*p != '\0' && is_space_char(g_utf8_get_char(p)))
		p = g_utf8_next_char(p);
	return p;
}

/* A full-width colon (Chinese, Japanese) trims wherever ':' does. */
static gboolean
is_trim_char(gunichar c, const char *extra)
{
	if (c == 0xFF1A)
		c = ':';
	return is_space_char(c) || (c < 0x80 && c != 0 && strchr(extra, (int)c) != NULL);
}

/*
 * s without the whitespace and the ASCII characters of lead (at the
 * start) and trail (at the end) around it; caller frees.
 */
static char *
trim_dup(const char *s, const char *lead, const char *trail)
{
	const char *start = s;
	const char *end = s + strlen(s);

	while (*start != '\0' && is_trim_char(g_utf8_get_char(start), lead))
		start = g_utf8_next_char(start);
	while (end > start) {
		const char *prev = g_utf8_prev_char(end);

		if (!is_trim_char(g_utf8_get_char(prev), trail))
			break;
		end = prev;
	}
	return g_strndup(start, end - start);
}

static gboolean
is_blank(const char *line)
{
	return *skip_space(line) == '\0';
}

/* "> text", ">", or supercite's "AB> text". */
static gboolean
is_quoted(const char *line)
{
	const char *p = skip_space(line);
	const char *q = p;

	if (*p == '>')
		return TRUE;
	while (g_ascii_isalpha(*q) && q - p < 8)
		q++;
	return q > p && *q == '>' && (q[1] == ' ' || q[1] == '\t' || q[1] == '\0');
}

static gboolean
is_signature(const char *line)
{
	const char *p = line;

	if (p[0] != '-' || p[1] != '-')
		return FALSE;
	for (p += 2; *p == ' ' || *p == '\t'; p++)
		;
	return *p == '\0';
}

gboolean
quote_has_cut_line(const char *text, gsize len)
{
	const char *end = text + len;
	gsize open_len = strlen(QUOTE_CUT_MARKER_START);
	gsize close_len = strlen(QUOTE_CUT_MARKER_END);

	for (const char *line = text; line < end;) {
		const char *eol = memchr(line, '\n', (gsize)(end - line));
		const char *stop = eol != NULL ? eol : end;
		const char *open = memmem(line, (gsize)(stop - line), QUOTE_CUT_MARKER_START, open_len);

		if (open != NULL && memmem(open + open_len, (gsize)(stop - (open + open_len)),
		                           QUOTE_CUT_MARKER_END, close_len) != NULL)
			return TRUE;
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return FALSE;
}

/*
 * Where our marker starts in the line, NULL if it has none.  Anywhere in
 * the line counts, not only a line of its own: a client that joins lines
 * must not carry our notification past the cut.
 */
static char *
find_marker(char *line)
{
	char *start = strstr(line, QUOTE_CUT_MARKER_START);

	if (start == NULL ||
	    strstr(start + strlen(QUOTE_CUT_MARKER_START), QUOTE_CUT_MARKER_END) == NULL)
		return NULL;
	return start;
}

/* A rule: "________", "-----------", "_ __ ___ _____ ___ __ _". */
static gboolean
is_bare_separator(const char *line)
{
	guint marks = 0;

	for (const char *p = line; *p != '\0'; p++) {
		if (*p == '-' || *p == '_' || *p == '=')
			marks++;
		else if (*p != ' ' && *p != '\t')
			return FALSE;
	}
	return marks >= 5;
}

/*
 * The case-folded text of "-----Original Message-----" style lines, NULL
 * for any other line; caller frees.
 */
static char *
separator_text(const char *line)
{
	g_autofree char *t = NULL;
	g_autofree char *inner = NULL;
	gboolean letter = FALSE;

	if (strstr(line, "--") == NULL)
		return NULL;
	t = trim_dup(line, "", "");
	if (!g_str_has_prefix(t, "--") || !g_str_has_suffix(t, "--"))
		return NULL;
	inner = trim_dup(t, "-", "-");
	if (inner[0] == '\0' || strlen(inner) > MAX_SEPARATOR_TEXT_BYTES)
		return NULL;
	for (const char *p = inner; *p != '\0' && !letter; p = g_utf8_next_char(p))
		letter = g_unichar_isalpha(g_utf8_get_char(p));
	return letter ? g_utf8_casefold(inner, -1) : NULL;
}

static gboolean
contains_any(const char *folded, const char *const *words)
{
	for (guint i = 0; words[i] != NULL; i++)
		if (strstr(folded, words[i]) != NULL)
			return TRUE;
	return FALSE;
}

/* Does the line end with a colon (maybe full-width), blanks and bold aside? */
static gboolean
ends_with_colon(const char *line)
{
	const char *end = line + strlen(line);

	while (end > line) {
		const char *prev = g_utf8_prev_char(end);
		gunichar c = g_utf8_get_char(prev);

		if (c == ':' || c == 0xFF1A)
			return TRUE;
		if (!is_space_char(c) && c != '*')
			return FALSE;
		end = prev;
	}
	return FALSE;
}

static gboolean
is_forward_intro(const char *line)
{
	g_autofree char *t = NULL;
	g_autofree char *folded = NULL;

	if (strlen(line) > MAX_SEPARATOR_TEXT_BYTES || !ends_with_colon(line))
		return FALSE;
	t = trim_dup(line, "*", "*:");
	folded = g_utf8_casefold(t, -1);
	return g_strv_contains(forward_intros, folded);
}

/* What header of a quoted-header block line starts with, if any. */
static HeaderKind
header_kind(const char *line)
{
	const char *p = skip_space(line);
	const char *start;
	g_autofree char *key = NULL;
	g_autofree char *folded = NULL;

	while (*p == '*' || *p == '_')
		p++;
	start = p;
	/* the key ends at a colon, ASCII or full-width */
	while (*p != '\0' && *p != ':' && strncmp(p, "\xef\xbc\x9a", 3) != 0) {
		if (p - start > MAX_HEADER_KEY_BYTES)
			return HDR_NONE;
		p++;
	}
	if (*p == '\0' || p == start)
		return HDR_NONE;
	key = g_strndup(start, p - start);
	g_strchomp(key);
	while (key[0] != '\0' && key[strlen(key) - 1] == '*')
		key[strlen(key) - 1] = '\0';
	if (!g_utf8_validate(key, -1, NULL)) /* the byte walk may split a character */
		return HDR_NONE;
	folded = g_utf8_casefold(key, -1);
	if (g_strv_contains(from_keys, folded))
		return HDR_FROM;
	if (g_strv_contains(date_keys, folded))
		return HDR_DATE;
	if (g_strv_contains(other_keys, folded))
		return HDR_OTHER;
	return HDR_NONE;
}

/*
 * TRUE when the header lines starting at lines[i] (single blank lines
 * between them allowed, as HTML conversions leave them) name both a
 * sender and a date: one header-looking line alone is too weak a sign.
 */
static gboolean
is_header_block(const Text *t, guint n, guint i)
{
	gboolean from = FALSE, date = FALSE;

	for (guint j = i; j < n && j < i + MAX_HEADER_LINES; j++) {
		HeaderKind k = t->hdr[j];

		if (k == HDR_FROM)
			from = TRUE;
		else if (k == HDR_DATE)
			date = TRUE;
		else if (k == HDR_NONE &&
		         !(is_blank(t->line[j]) && j + 1 < n && t->hdr[j + 1] != HDR_NONE))
			break;
	}
	return from && date;
}

/* The first line of the header lines that end at lines[k]. */
static guint
header_block_start(const Text *t, guint k)
{
	guint b = k;

	while (b > 0 && k - b < MAX_HEADER_LINES) {
		if (t->hdr[b - 1] != HDR_NONE)
			b--;
		else if (b >= 2 && is_blank(t->line[b - 1]) && t->hdr[b - 2] != HDR_NONE)
			b -= 2;
		else
			break;
	}
	return b;
}

static gboolean
has_time(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (g_ascii_isdigit(p[0]) && p[1] == ':' && g_ascii_isdigit(p[2]) &&
		    g_ascii_isdigit(p[3]))
			return TRUE;
	return FALSE;
}

static gboolean
has_digit_or_at(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (g_ascii_isdigit(*p) || *p == '@')
			return TRUE;
	return FALSE;
}

/* Does folded end with word, not as the tail of a longer word? */
static gboolean
ends_with_word(const char *folded, gsize len, const char *word)
{
	gsize wl = strlen(word);
	gunichar prev;

	if (len < wl || memcmp(folded + len - wl, word, wl) != 0)
		return FALSE;
	if (len == wl)
		return TRUE;
	/* Chinese and Japanese write no space before the verb */
	if (g_utf8_get_char(word) >= 0x2E80)
		return TRUE;
	prev = g_utf8_get_char(g_utf8_prev_char(folded + len - wl));
	return !g_unichar_isalnum(prev);
}

static gboolean
starts_with_opener(const char *folded)
{
	const char *p = folded;

	while (*p == '-' || *p == ' ' || *p == '*')
		p++;
	for (guint i = 0; attribution_openers[i] != NULL; i++) {
		const char *word = attribution_openers[i];
		gsize l = strlen(word);

		if (strncmp(p, word, l) == 0 &&
		    (p[l] == ' ' || p[l] == ',' || g_utf8_get_char(word) >= 0x2E80))
			return TRUE;
	}
	return FALSE;
}

/*
 * Is folded (the trimmed, case-folded, joined attribution candidate,
 * ending with its colon) an attribution?  relaxed also takes any line
 * with an address or a time, as Gmail writes in Russian ("пн, 5 янв.
 * 2021 г. в 10:00, Name <a@b>:"), which is only safe right above a quote.
 */
static gboolean
attribution_text_matches(const char *folded, gboolean relaxed)
{
	g_autofree char *t = trim_dup(folded, "", ":");
	gsize len = strlen(t);

	for (guint i = 0; attribution_verbs[i] != NULL; i++)
		if (ends_with_word(t, len, attribution_verbs[i]))
			return TRUE;
	for (guint i = 0; attribution_mid_verbs[i] != NULL; i++) {
		g_autofree char *spaced = g_strconcat(" ", attribution_mid_verbs[i], " ", NULL);
		const char *at = strstr(t, spaced);

		if (at != NULL &&
		    (starts_with_opener(t) || strpbrk(at, "@<") != NULL || has_time(at)))
			return TRUE;
	}
	return relaxed && (strchr(t, '@') != NULL || has_time(t));
}

/* Could this line open a wrapped attribution ("On Tue, Jan 5, 2021 at ...")? */
static gboolean
starts_well(const char *line)
{
	g_autofree char *t = trim_dup(line, "-*", "");
	g_autofree char *folded = g_utf8_casefold(t, -1);
	const char *comma = strchr(folded, ',');

	if (g_ascii_isdigit(folded[0]) || starts_with_opener(folded))
		return TRUE;
	/* Gmail puts the weekday first: "Tue, Jan 5", "пн, 6 окт.", "pirmd., 2021." */
	if (comma != NULL && comma - folded <= 24) {
		g_autofree char *day = g_strndup(folded, comma - folded);

		return g_strv_contains(weekdays, day);
	}
	return FALSE;
}

/* Does the line end a sentence, so that it cannot be a wrapped attribution? */
static gboolean
ends_sentence(const char *line)
{
	g_autofree char *t = trim_dup(line, "", "");
	gsize len = strlen(t);

	return len > 0 && strchr(".!?;:", t[len - 1]) != NULL;
}

/* Does line start inside an address wrapped from the line above ("j@x> wrote:")? */
static gboolean
starts_in_address(const char *line)
{
	const char *p = skip_space(line);
	const char *gt = strchr(p, '>');
	const char *lt = strchr(p, '<');

	return *p == '<' || (gt != NULL && (lt == NULL || gt < lt));
}

/*
 * The first line of an attribution that ends at lines[last]: up to two
 * lines above it belong to it when they open it ("On ...", a date, a
 * weekday) or when an address was wrapped between them.
 */
static guint
attribution_start(char *const *lines, guint last)
{
	guint best = last;

	if (starts_well(lines[last]) && !starts_in_address(lines[last]))
		return last;
	for (guint k = 1; k <= 2 && k <= last; k++) {
		const char *line = lines[last - k];
		g_autofree char *t = NULL;

		if (is_blank(line) || is_quoted(line) || strlen(line) > MAX_WRAPPED_LINE_BYTES ||
		    ends_sentence(line))
			break;
		t = trim_dup(line, "", "");
		if (starts_well(line) || starts_in_address(lines[last - k + 1]) ||
		    g_str_has_suffix(t, "<"))
			best = last - k;
		if (starts_well(line))
			break;
	}
	return best;
}

/*
 * If lines[last] ends an attribution, its first line; else -1.  Unless
 * relaxed (right above a quote), it must name a date or an address, so
 * that "as my colleague wrote:" in running text does not cut.
 */
static gint
attribution_at(char *const *lines, guint last, gboolean relaxed)
{
	g_autoptr(GString) joined = NULL;
	g_autofree char *folded = NULL;
	guint first;

	if (strlen(lines[last]) > MAX_ATTRIBUTION_BYTES || is_quoted(lines[last]) ||
	    !ends_with_colon(lines[last]))
		return -1;
	first = attribution_start(lines, last);
	joined = g_string_new(NULL);
	for (guint i = first; i <= last; i++) {
		g_autofree char *part = trim_dup(lines[i], "*", "*");

		if (joined->len > 0)
			g_string_append_c(joined, ' ');
		g_string_append(joined, part);
	}
	folded = g_utf8_casefold(joined->str, -1);
	if (!attribution_text_matches(folded, relaxed))
		return -1;
	if (!relaxed && !has_digit_or_at(folded))
		return -1;
	return (gint)first;
}

/*
 * Moves a cut at lines[cut] up over what introduces the history below it:
 * an attribution, a header block, a separator line, with blank lines (and,
 * above our marker, quoted lines) between them.
 */
static guint
extend_up(const Text *t, guint cut, gboolean skip_quoted)
{
	char *const *lines = t->line;

	for (;;) {
		gint k = (gint)cut - 1;
		gint first;

		while (k >= 0 && (is_blank(lines[k]) || (skip_quoted && is_quoted(lines[k]))))
			k--;
		if (k < 0)
			break;
		if ((first = attribution_at(lines, (guint)k, TRUE)) >= 0) {
			cut = (guint)first;
			continue;
		}
		if (t->hdr[k] != HDR_NONE) {
			guint b = header_block_start(t, (guint)k);

			/* k + 1 as the line count: the block ends at k */
			if (is_header_block(t, (guint)k + 1, b)) {
				cut = b;
				continue;
			}
		}
		if (is_bare_separator(lines[k])) {
			cut = (guint)k;
			continue;
		}
		{
			g_autofree char *sep = separator_text(lines[k]);

			if (sep != NULL) {
				cut = (guint)k;
				continue;
			}
		}
		break;
	}
	return cut;
}

/* Is the next non-blank line after lines[i] (two blank lines at most) a header line? */
static gboolean
header_follows(const Text *t, guint i)
{
	for (guint j = i + 1; j < t->n && j <= i + 3; j++) {
		if (is_blank(t->line[j]))
			continue;
		return t->hdr[j] != HDR_NONE;
	}
	return FALSE;
}

/*
 * The index of the first line of the quoted history (n if none).  A line
 * with our marker after the author's words is cut short in place.
 */
static guint
find_cut(const Text *t)
{
	for (guint i = 0; i < t->n; i++) {
		const char *line = t->line[i];
		g_autofree char *sep = NULL;
		char *marker;
		gint first;

		if (is_blank(line))
			continue;
		if (is_quoted(line))
			return extend_up(t, i, FALSE);
		if ((marker = find_marker(t->line[i])) != NULL) {
			g_autofree char *before = g_strndup(line, marker - line);
			g_autofree char *words = trim_dup(before, "*_", "*_");

			if (words[0] == '\0')
				return extend_up(t, i, TRUE);
			/* the author's words share the line: keep them */
			*marker = '\0';
			return i + 1;
		}
		if (is_signature(line))
			return i;
		sep = separator_text(line);
		if (sep != NULL && contains_any(sep, separator_phrases))
			return extend_up(t, i, FALSE);
		if (is_forward_intro(line))
			return extend_up(t, i, FALSE);
		/* any language's "-----Original Message-----" or Outlook web's rule */
		if ((sep != NULL || is_bare_separator(line)) && header_follows(t, i))
			return extend_up(t, i, FALSE);
		if (t->hdr[i] != HDR_NONE && is_header_block(t, t->n, i))
			return extend_up(t, i, FALSE);
		if ((first = attribution_at(t->line, i, FALSE)) >= 0)
			return extend_up(t, (guint)first, FALSE);
	}
	return t->n;
}

char *
quote_strip(const char *text)
{
	return quote_strip_below(text, NULL);
}

/*
 * Words after the first quoted line that are not quoted themselves, before
 * any signature: someone wrote below or between the quotes (bottom-posting
 * or an interleaved answer), and those words were cut.
 */
static gboolean
text_below_quote(char *const *lines, guint n, guint cut)
{
	guint i = cut;

	while (i < n && !is_quoted(lines[i]))
		i++;
	for (; i < n && !is_signature(lines[i]); i++)
		if (!is_blank(lines[i]) && !is_quoted(lines[i]))
			return TRUE;
	return FALSE;
}

char *
quote_strip_below(const char *text, gboolean *below_r)
{
	g_autofree char *valid = NULL;
	g_autoptr(GPtrArray) split = g_ptr_array_new();
	g_autofree HeaderKind *hdr = NULL;
	GString *out = g_string_new(NULL);
	char *const *lines;
	Text t;
	guint n, cut, first, last;

	if (below_r != NULL)
		*below_r = FALSE;
	if (text == NULL)
		return g_string_free(out, FALSE);
	valid = g_utf8_make_valid(text, -1);
	/*
	 * Lines are cut in place: CRLF, lone CR and LF all end one.  (Not
	 * g_strsplit, whose strstr per line is quadratic under ASan.)
	 */
	g_ptr_array_add(split, valid);
	for (char *p = valid; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			if (p[0] == '\r' && p[1] == '\n')
				*p++ = '\0';
			*p = '\0';
			g_ptr_array_add(split, p + 1);
		}
	}
	lines = (char *const *)split->pdata;
	n = split->len;
	hdr = g_new(HeaderKind, n);
	for (guint i = 0; i < n; i++)
		hdr[i] = header_kind(lines[i]);
	t = (Text){ lines, n, hdr };
	cut = find_cut(&t);
	if (below_r != NULL)
		*below_r = text_below_quote(lines, n, cut);

	for (first = 0; first < cut && is_blank(lines[first]); first++)
		;
	for (last = cut; last > first && is_blank(lines[last - 1]); last--)
		;
	for (guint i = first; i < last; i++) {
		if (i > first)
			g_string_append_c(out, '\n');
		g_string_append(out, lines[i]);
	}
	/* the last line's trailing blanks, which may be multibyte (NBSP) */
	while (out->len > 0) {
		const char *prev = g_utf8_prev_char(out->str + out->len);

		if (!is_space_char(g_utf8_get_char(prev)))
			break;
		g_string_truncate(out, prev - out->str);
	}
	return g_string_free(out, FALSE);
}
