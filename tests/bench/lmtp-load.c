/*
 * lmtp-load.c - the LMTP client of `make bench`: plays Postfix's lmtp(8)
 * against `maildesk lmtpd` on N connections at once, and times it.
 *
 *   lmtp-load --socket PATH --connections N --spool FILE
 *
 * Why C: the Python client processes bench.py ran before spent about
 * 400 us of CPU per message on the same two cores as lmtpd, which capped
 * the rate measured.  Here one poll() loop drives every connection.
 *
 * FILE holds the messages in LMTP wire form (CRLF line ends, dot-stuffed,
 * each ending with ".\r\n"), each preceded by its length in bytes, in
 * decimal, on a line of its own.  Connection k sends the k-th of N
 * contiguous slices in order, as bench.py's Python client did, so each
 * connection gets the same mix and a reply follows its question on the
 * same connection.
 *
 * Per connection: greeting, LHLO, then per message MAIL, RCPT and DATA
 * in one write (PIPELINING), their three replies (250, 250, 354), the
 * data, its one reply (one recipient, 250); then QUIT.  Any other reply
 * goes to stderr and the exit status is 1.
 *
 * Prints one line of JSON: messages, seconds (first connect to the last
 * message's reply), cpu_seconds (this process, user + system, over the
 * same run), latencies (seconds from writing MAIL to reading the final
 * reply, in spool order).  Must never be built by `make` or installed.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
/* a reply line longer than this is an error, not something to buffer */
#define REPLY_BUF 4096
/* bench.py waited as long for its Python clients */
#define REPLY_TIMEOUT_MS (600 * 1000)

static const char ENVELOPE[] = "MAIL FROM:<c@example.org>\r\n"
			       "RCPT TO:<support@example.com>\r\n"
			       "DATA\r\n";
static const char LHLO[] = "LHLO bench\r\n";
static const char QUIT[] = "QUIT\r\n";

typedef struct {
	const char *data;
	size_t len;
} Message;

typedef enum {
	AWAIT_GREETING,
	AWAIT_LHLO,
	AWAIT_MAIL,
	AWAIT_RCPT,
	AWAIT_DATA,
	AWAIT_DOT,
	AWAIT_QUIT,
} ConnState;

static const char *const state_names[] = {
	"greeting", "LHLO", "MAIL", "RCPT", "DATA", "end of data", "QUIT",
};

typedef struct {
	int id;
	ConnState state;
	size_t next, end; /* messages [next, end) not yet started */
	size_t cur;	  /* the message in flight */
	const char *out;  /* bytes still to write */
	size_t outlen;
	char in[REPLY_BUF]; /* bytes read and not yet parsed */
	size_t inlen;
	double mail_at;
} Conn;

static Message *messages;
static size_t n_messages;
static double *latencies;
static double last_reply_at;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("lmtp-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Reads FILE whole and cuts it into messages; the buffer lives as long
 * as the process. */
static void
read_spool(const char *path)
{
	struct stat st;
	char *buf;
	size_t size, pos = 0, cap = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open the spool %s: %s", path, strerror(errno));
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL)
		die("out of memory for the spool %s", path);
	while (pos < size) {
		ssize_t r = read(fd, buf + pos, size - pos);

		if (r <= 0)
			die("cannot read the spool %s", path);
		pos += (size_t)r;
	}
	close(fd);

	pos = 0;
	while (pos < size) {
		size_t len = 0;

		if (buf[pos] < '0' || buf[pos] > '9')
			die("bad length line in the spool %s", path);
		while (pos < size && buf[pos] >= '0' && buf[pos] <= '9') {
			if (len > (size - pos) / 10)
				die("message longer than the spool %s", path);
			len = len * 10 + (size_t)(buf[pos++] - '0');
		}
		if (pos == size || buf[pos] != '\n')
			die("bad length line in the spool %s", path);
		pos++;
		if (len > size - pos || len < 3 || memcmp(buf + pos + len - 3, ".\r\n", 3) != 0)
			die("a message in the spool %s does not end with .CRLF", path);
		if (n_messages == cap) {
			cap = cap ? cap * 2 : 1024;
			messages = realloc(messages, cap * sizeof *messages);
			if (messages == NULL)
				die("out of memory for the spool %s", path);
		}
		messages[n_messages].data = buf + pos;
		messages[n_messages].len = len;
		n_messages++;
		pos += len;
	}
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		die("socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* blocking, so a full listen backlog waits instead of failing */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("cannot connect to %s: %s", path, strerror(errno));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
	return fd;
}

static void
send_next(Conn *c)
{
	if (c->next < c->end) {
		c->cur = c->next++;
		c->out = ENVELOPE;
		c->outlen = sizeof ENVELOPE - 1;
		c->state = AWAIT_MAIL;
		c->mail_at = now();
	} else {
		c->out = QUIT;
		c->outlen = sizeof QUIT - 1;
		c->state = AWAIT_QUIT;
	}
}

/* Writes what it can; returns -1 on a write error. */
static int
flush(Conn *c, int fd)
{
	while (c->outlen > 0) {
		ssize_t w = write(fd, c->out, c->outlen);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->out += w;
		c->outlen -= (size_t)w;
	}
	return 0;
}

static void __attribute__((noreturn))
unexpected(const Conn *c, const char *line, size_t len)
{
	die("connection %d: unexpected reply to %s: %.*s", c->id, state_names[c->state],
	    (int)(len > 300 ? 300 : len), line);
}

/* The final line of a reply: checks its code and moves the dialogue on.
 * Returns 1 when the connection is finished. */
static int
on_reply(Conn *c, const char *line, size_t len)
{
	static const char expect[][4] = {
		[AWAIT_GREETING] = "220", [AWAIT_LHLO] = "250", [AWAIT_MAIL] = "250",
		[AWAIT_RCPT] = "250",	  [AWAIT_DATA] = "354", [AWAIT_DOT] = "250",
		[AWAIT_QUIT] = "221",
	};

	if (memcmp(line, expect[c->state], 3) != 0)
		unexpected(c, line, len);
	switch (c->state) {
	case AWAIT_GREETING:
		c->out = LHLO;
		c->outlen = sizeof LHLO - 1;
		c->state = AWAIT_LHLO;
		break;
	case AWAIT_MAIL:
		c->state = AWAIT_RCPT;
		break;
	case AWAIT_RCPT:
		c->state = AWAIT_DATA;
		break;
	case AWAIT_DATA:
		c->out = messages[c->cur].data;
		c->outlen = messages[c->cur].len;
		c->state = AWAIT_DOT;
		break;
	case AWAIT_DOT:
		last_reply_at = now();
		latencies[c->cur] = last_reply_at - c->mail_at;
		send_next(c);
		break;
	case AWAIT_LHLO:
		send_next(c);
		break;
	case AWAIT_QUIT:
		return 1;
	}
	return 0;
}

/* Parses the complete lines read so far; returns 1 when the connection
 * is finished. */
static int
parse_replies(Conn *c)
{
	size_t start = 0;
	int finished = 0;

	while (!finished) {
		char *nl = memchr(c->in + start, '\n', c->inlen - start);
		const char *line = c->in + start;
		size_t len;

		if (nl == NULL)
			break;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		start = (size_t)(nl - c->in) + 1;
		if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-'))
			unexpected(c, line, len);
		if (len > 3 && line[3] == '-')
			continue; /* a multi-line reply goes on */
		finished = on_reply(c, line, len);
	}
	if (!finished && start == 0 && c->inlen == sizeof c->in)
		unexpected(c, c->in, c->inlen);
	memmove(c->in, c->in + start, c->inlen - start);
	c->inlen -= start;
	return finished;
}

static void
usage(void)
{
	fputs("usage: lmtp-load --socket PATH --connections N --spool FILE\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *spool = NULL;
	long n_conns = 0;
	Conn *conns;
	struct pollfd *pfd;
	size_t active;
	double t0, cpu0, cpu1;

	for (int i = 1; i < argc; i++) {
		if (i + 1 == argc)
			usage();
		if (strcmp(argv[i], "--socket") == 0) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "--spool") == 0) {
			spool = argv[++i];
		} else if (strcmp(argv[i], "--connections") == 0) {
			char *end;

			n_conns = strtol(argv[++i], &end, 10);
			if (*end != '\0' || n_conns < 1 || n_conns > MAX_CONNECTIONS)
				usage();
		} else {
			usage();
		}
	}
	if (sock == NULL || spool == NULL || n_conns == 0)
		usage();
	/* a connection lmtpd closes is reported, not a silent death */
	signal(SIGPIPE, SIG_IGN);

	read_spool(spool);
	latencies = calloc(n_messages ? n_messages : 1, sizeof *latencies);
	conns = calloc((size_t)n_conns, sizeof *conns);
	pfd = calloc((size_t)n_conns, sizeof *pfd);
	if (latencies == NULL || conns == NULL || pfd == NULL)
		die("out of memory");

	cpu0 = cpu_seconds();
	t0 = now();
	last_reply_at = t0;
	for (long k = 0; k < n_conns; k++) {
		Conn *c = &conns[k];

		c->id = (int)k;
		c->state = AWAIT_GREETING;
		c->next = n_messages * (size_t)k / (size_t)n_conns;
		c->end = n_messages * (size_t)(k + 1) / (size_t)n_conns;
		pfd[k].fd = connect_unix(sock);
	}

	active = (size_t)n_conns;
	while (active > 0) {
		int r;

		for (long k = 0; k < n_conns; k++)
			pfd[k].events = POLLIN | (conns[k].outlen > 0 ? POLLOUT : 0);
		r = poll(pfd, (nfds_t)n_conns, REPLY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll: %s", strerror(errno));
		if (r == 0)
			die("no reply from lmtpd in 600 s");
		for (long k = 0; k < n_conns; k++) {
			Conn *c = &conns[k];
			int fd = pfd[k].fd;

			if (fd < 0 || pfd[k].revents == 0)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t n = read(fd, c->in + c->inlen, sizeof c->in - c->inlen);

				if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
					continue;
				if (n <= 0)
					die("connection %d: closed by lmtpd before the reply to %s", c->id,
					    state_names[c->state]);
				c->inlen += (size_t)n;
				if (parse_replies(c)) {
					close(fd);
					pfd[k].fd = -1;
					active--;
					continue;
				}
			}
			/* what a reply just queued goes out now, not a poll later */
			if (flush(c, fd) < 0)
				die("connection %d: write: %s", c->id, strerror(errno));
		}
	}
	cpu1 = cpu_seconds();

	printf("{\"messages\": %zu, \"connections\": %ld, \"seconds\": %.6f, "
	       "\"cpu_seconds\": %.6f, \"latencies\": [",
	       n_messages, n_conns, last_reply_at - t0, cpu1 - cpu0);
	for (size_t i = 0; i < n_messages; i++)
		printf(i ? ", %.6f" : "%.6f", latencies[i]);
	printf("]}\n");
	return fflush(stdout) == 0 ? 0 : 1;
}
