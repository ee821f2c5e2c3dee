"""Hostile message shapes for the parser, each built to a given size, for
tests/fault/hostile_scaling.py (growth with size) and
tests/bench/robustness.py (the table in docs/robustness.md).

Each shape is a function size -> (raw message bytes, flag) where flag is
the parse_error the message must be stored with (the ticket flagged), or
None when it parses within bounds and nothing is flagged.  A shape grows
by repeating one unit, so that the work it asks for is proportional to
its size, and the message is within a few hundred bytes of size."""

# parse.c: top-level header blocks beyond this are parsed no further
HEADER_LIMIT = 4 * 1024 * 1024
# parse.c's default max_parts
MAX_PARTS = 10000

HEAD = ("From: Customer <customer@example.org>\n"
        "Subject: {name}\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0200\n"
        "Message-ID: <{name}-{size}@example.org>\n")
CHARSETS = ["iso-8859-1", "koi8-r", "windows-1251", "iso-2022-jp", "shift_jis", "gb2312", "big5",
            "iso-8859-2", "euc-kr", "windows-1250", "iso-8859-5", "cp866"]


def head(name, size, to="To: support@example.com\n"):
    return HEAD.format(name=name, size=size) + to


def times(unit, size):
    """How many units fill size; units numbered up to it must be no longer
    than unit."""
    return max(1, size // len(unit))


def numbered(fmt, size, sep="", start=0):
    """fmt.format(i) for i = start, start + 1, ... joined by sep, to about
    size bytes; and how many."""
    out, total, i = [], 0, start
    while total < size:
        item = fmt.format(i)
        out.append(item)
        total += len(item) + len(sep)
        i += 1
    return sep.join(out), i - start


def header_flag(header_bytes, otherwise=None):
    """parse.c parses no message whose header blocks (its own, its parts'
    and its attached messages') hold more than 4 MB beyond its first 4 MB
    of top-level header."""
    return "headers too large" if header_bytes + 200 > HEADER_LIMIT else otherwise


def mixed(name, size, part_head, body="x\n", to="To: support@example.com\n"):
    """A multipart/mixed: a text part, then one part whose header is part_head."""
    return (head(name, size, to) + "MIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="b"\n\n'
            "--b\nContent-Type: text/plain\n\nthe text\n"
            f"--b\n{part_head}\n\n{body}--b--\n").encode()


def ews(n):
    """n encoded words, each in another charset than the last."""
    return " ".join(f"=?{CHARSETS[i % len(CHARSETS)]}?Q?a=E9?=" for i in range(n))


def groups(size):
    n = times("g:;", size)
    h = "To: " + "g:" * n + "support@example.com" + ";" * n + "\n"
    return (head("groups", size, h) + "\nhi\n").encode(), header_flag(
        len(h), "address groups nested too deep")


def comments(size):
    n = times("()", size)
    h = "To: support@example.com " + "(" * n + ")" * n + "\n"
    return (head("comments", size, h) + "\nhi\n").encode(), header_flag(
        len(h), "address comments nested too deep")


def groups_attached(size):
    """The nested groups in the To of an attached message/rfc822."""
    n = times("g:;", size)
    inner = "From: x@example.org\nTo: " + "g:" * n + "y@example.org" + ";" * n + "\nSubject: in\n"
    return mixed("groups-attached", size, "Content-Type: message/rfc822", inner + "\nhi\n"), \
        header_flag(len(inner), "address groups nested too deep")


def top_params(size):
    h = "Content-Type: text/plain; charset=utf-8" + numbered(";\n p{}=v", size)[0] + "\n"
    return (head("top-params", size) + "MIME-Version: 1.0\n" + h + "\nhi\n").encode(), header_flag(len(h))


def part_params(size):
    """An attachment whose Content-Type and Content-Disposition carry the parameters."""
    ps = numbered(";\n p{}=v", size // 2)[0]
    return mixed("part-params", size, "Content-Type: application/octet-stream" + ps
                 + "\nContent-Disposition: attachment; filename=a.bin" + ps), header_flag(2 * len(ps))


def rfc2231_pieces(size):
    """One file name in many RFC 2231 continuations."""
    cd = ("Content-Disposition: attachment;\n filename*0*=utf-8''a%C3%A9"
          + numbered(";\n filename*{}*=a%C3%A9", size, start=1)[0])
    return mixed("rfc2231-pieces", size, "Content-Type: application/octet-stream\n" + cd), header_flag(len(cd))


def rfc2231_names(size):
    """Many parameters, each in RFC 2231 continuations of its own charset."""
    out, total, i = [], 0, 0
    while total < size:
        out.append(f";\n p{i}*0*={CHARSETS[i % len(CHARSETS)]}''a%C1;\n p{i}*1*=b")
        total += len(out[-1])
        i += 1
    cd = "Content-Disposition: attachment; filename=a.bin" + "".join(out)
    return mixed("rfc2231-names", size, "Content-Type: application/octet-stream\n" + cd), header_flag(len(cd))


def ew_subject(size):
    h = "Subject: " + ews(times("=?iso-8859-1?Q?a=E9?= ", size)) + "\n"
    raw = (HEAD.replace("Subject: {name}\n", "").format(name="ew-subject", size=size)
           + "To: support@example.com\n" + h + "\nhi\n")
    return raw.encode(), header_flag(len(h))


def ew_from(size):
    h = "From: " + ews(times("=?iso-8859-1?Q?a=E9?= ", size)) + " <customer@example.org>\n"
    raw = (HEAD.replace("From: Customer <customer@example.org>\n", "").format(name="ew-from", size=size)
           + h + "To: support@example.com\n\nhi\n")
    return raw.encode(), header_flag(len(h))


def ew_filename(size):
    cd = f'Content-Disposition: attachment; filename="{ews(times("=?iso-8859-1?Q?a=E9?= ", size))}"'
    return mixed("ew-filename", size, "Content-Type: application/octet-stream\n" + cd), header_flag(len(cd))


def many_addresses(size):
    h = "To: support@example.com, " + numbered("u{}@example.org", size, ", ")[0] + "\n"
    return (head("many-addresses", size, h) + "\nhi\n").encode(), header_flag(len(h))


def references(size):
    h = "References: " + numbered("<r{}@example.org>", size, " ")[0] + "\n"
    return (head("references", size) + h + "\nhi\n").encode(), header_flag(len(h))


def many_headers(size):
    h = numbered("X-H{}: v\n", size)[0]
    return (head("many-headers", size) + h + "\nhi\n").encode(), header_flag(len(h))


def part_headers(size):
    """One attachment with a great many header lines."""
    h = numbered("X-H{}: v", size, "\n")[0]
    return mixed("part-headers", size, "Content-Type: application/octet-stream\n" + h), header_flag(len(h))


def deep_multipart(size):
    opening, n = numbered('Content-Type: multipart/mixed; boundary="b{0}"\n\n--b{0}\n', size * 3 // 4)
    raw = (head("deep-multipart", size) + "MIME-Version: 1.0\n" + opening
           + "Content-Type: text/plain\n\nthe innermost text\n"
           + "".join(f"--b{i}--\n" for i in reversed(range(n))))
    # two delimiter lines a level count as parts, then each level's
    # header as header: parse.c checks in that order
    if 2 * n > 2 * MAX_PARTS + 16:
        return raw.encode(), "too many MIME parts"
    return raw.encode(), header_flag(len(opening) - 6 * n, "MIME nesting too deep")


def deep_message(size):
    unit = "Subject: inner\nContent-Type: message/rfc822\n\n"
    raw = (head("deep-message", size) + "MIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
           + unit * times(unit, size) + "Subject: last\n\nhi\n")
    return raw.encode(), header_flag(len(raw), "MIME nesting too deep")


def many_parts(size):
    unit = "--p\nContent-Type: application/octet-stream\n\nx\n"
    n = times(unit, size)
    raw = (head("many-parts", size) + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="p"\n\n'
           + "--p\nContent-Type: text/plain\n\nthe text\n" + unit * n + "--p--\n")
    if n + 2 > 2 * MAX_PARTS + 16:
        return raw.encode(), "too many MIME parts"
    return raw.encode(), header_flag(n * len("Content-Type: application/octet-stream\n\n"),
                                     "too many MIME parts" if n + 1 > MAX_PARTS else None)


SHAPES = {
    "nested address groups": groups,
    "nested address comments": comments,
    "nested groups in an attached message": groups_attached,
    "Content-Type parameters (top level)": top_params,
    "Content-Type/-Disposition parameters (inner part)": part_params,
    "RFC 2231 continuations, one name": rfc2231_pieces,
    "RFC 2231 continuations, many names and charsets": rfc2231_names,
    "encoded words, alternating charsets, Subject": ew_subject,
    "encoded words, alternating charsets, From": ew_from,
    "encoded words, alternating charsets, file name": ew_filename,
    "addresses in To": many_addresses,
    "References": references,
    "header fields (top level)": many_headers,
    "header fields (inner part)": part_headers,
    "nested multiparts": deep_multipart,
    "nested message/rfc822": deep_message,
    "MIME parts": many_parts,
}
